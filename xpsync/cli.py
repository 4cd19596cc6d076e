"""The `xpsync` command line. Every flag has an environment twin (see `envflag`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from . import __version__
from .db import database_url, first, masked
from .embedded import EmbeddedServer
from .errors import translate
from .logs import configure as configure_logging
from .migrate import migrate, require_migrated
from .settings import ConfigError, Settings, is_true
from .transfer.rows import ImportFileError
from .vocabulary import TARGETS

Command = Callable[[argparse.Namespace, Settings], int]


def envflag(parser: argparse.ArgumentParser, flag: str, env: str, *, kind: type = str, default: Any = None,
            help: str = "") -> None:
    """Add `flag` whose default comes from the environment variable `env`."""
    raw = os.environ.get(env)
    if kind is bool:
        parser.add_argument(flag, action="store_true", default=is_true(raw), help=f"{help} [env {env}]")
        return
    if raw is not None and raw.strip():
        try:
            default = kind(raw)
        except ValueError:
            raise ConfigError(f"{env}={raw!r} is not a valid {kind.__name__}") from None
    parser.add_argument(flag, type=kind, default=default, help=f"{help} [env {env}]")


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    print(migrate(database_url(settings)))
    return 0


def _embedded(settings: Settings) -> EmbeddedServer:
    if settings.database_url is not None:
        raise ConfigError("DATABASE_URL is set, so xpsync runs no embedded server; unset it to use one")
    return EmbeddedServer(settings.home)


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    print(masked(database_url(settings)))
    return 0


def cmd_db_psql(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url(settings)
    psql = EmbeddedServer(settings.home).bin_dir / "psql"
    sys.stdout.flush()
    # psql takes over this process, with our arguments
    os.execv(psql, [str(psql), "--no-psqlrc", "--dbname", url, *args.psql_args])  # noqa: S606


def cmd_db_stop(args: argparse.Namespace, settings: Settings) -> int:
    server = _embedded(settings)
    print("stopped" if server.stop() else f"no embedded server is running under {server.home}")
    return 0


def cmd_db_schema(args: argparse.Namespace, settings: Settings) -> int:
    from .schema import fresh_dump

    server = EmbeddedServer(settings.home)
    sys.stdout.write(fresh_dump(database_url(settings), server.bin_dir / "pg_dump"))
    return 0


def cmd_listen(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from .listener.main import serve
    from .listener.runtime import Options

    for name in ("batch_size", "lease_seconds", "poll_seconds", "concurrency"):
        if getattr(args, name) <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, not {getattr(args, name)}")
    options = Options(args.batch_size, args.lease_seconds, args.poll_seconds, args.concurrency)
    settings.require_token(args.target)
    require_migrated(database_url(settings))
    return asyncio.run(serve(args.target, settings, options))


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    # the token is checked before the (slow) client import and before touching the database
    settings.require_token(args.platform)
    require_migrated(database_url(settings))
    if args.platform == "discord":
        from .bots.discord.client import run
    else:
        from .bots.telegram.app import run
    return asyncio.run(run(settings))


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from .demo import DemoOptions, run

    return run(DemoOptions(members=args.members, seconds=args.seconds, keep=args.keep), settings)


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from .settings import parse_bind
    from .web.serve import run

    settings.require_web_secret()
    host, port = parse_bind(args.bind)
    return run(replace(settings, web_host=host, web_port=port), require_migrated(database_url(settings)))


def cmd_web_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from .web.serve import create_api_key

    key = create_api_key(_admin_url(settings), args.name)
    print(f"API key {args.name!r} (shown once; the database keeps only its hash):\n{key}")
    return 0


def _admin_url(settings: Settings) -> str:
    """The login that makes keys and login links: the admin's when set, else DATABASE_URL."""
    return settings.admin_database_url.reveal() if settings.admin_database_url else database_url(settings)


def cmd_web_admin_token(args: argparse.Namespace, settings: Settings) -> int:
    from .web.admin.login import create_login_link, revoke_login_links

    if args.link_action == "revoke":
        print(f"revoked {revoke_login_links(_admin_url(settings), args.name)} login link(s) of {args.name!r}")
        return 0
    if not 1 / 60 <= args.hours <= 720:  # NaN too
        raise ConfigError(f"--hours must be from 1/60 (a minute) to 720 (30 days), not {args.hours}")
    link = create_login_link(_admin_url(settings), settings.public_url, args.name, args.role, args.hours)
    print(f"Login link of the admin panel for {link.name!r} ({link.role}), used once, until "
          f"{link.expires_at:%Y-%m-%d %H:%M %Z} (shown once; the database keeps only its hash):\n{link.url}")
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from . import reconcile

    return reconcile.run(require_migrated(database_url(settings)), dry_run=args.dry_run, user=args.user)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from . import stats

    stats.show(stats.fetch(require_migrated(database_url(settings))), as_json=args.json)
    return 0


def cmd_cleanup(args: argparse.Namespace, settings: Settings) -> int:
    with psycopg.connect(require_migrated(database_url(settings)), autocommit=True) as conn:
        removed = first(conn.execute("SELECT xp.cleanup(%s::interval)", (args.older_than,)).fetchone())
    print(f"removed {removed} row(s) older than {args.older_than}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from . import transfer

    if args.format == "mee6":
        if not args.guild:
            raise ConfigError("import mee6 needs --guild ID (or XPSYNC_GUILD): the guild the leaderboard is from")
        rows, source = transfer.read_mee6(args.file, args.guild), f"mee6:{args.guild}"
    else:
        rows, source = transfer.read_csv(args.file), "csv"
    return transfer.run(require_migrated(database_url(settings)), rows, source=source, dry_run=args.dry_run)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from .transfer import export_csv

    url = require_migrated(database_url(settings))
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(open(args.file, "w", encoding="utf-8", newline="")) if args.file else sys.stdout
        for chunk in export_csv(url):
            target.write(chunk)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xpsync",
        description="One person, one progression, two platforms: the xpsync ledger, listeners and bots.",
    )
    parser.add_argument("--version", action="version", version=f"xpsync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="a community on a throw-away embedded server, with the real listeners (start here)")
    envflag(p, "--members", "XPSYNC_DEMO_MEMBERS", kind=int, default=300, help="people in the community")
    envflag(p, "--seconds", "XPSYNC_DEMO_SECONDS", kind=float, default=20.0, help="how long they are active")
    envflag(p, "--keep", "XPSYNC_DEMO_KEEP", kind=bool, help="leave the database running for psql afterwards")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", help="apply pending migrations (safe to run again)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("listen", help="deliver events to a platform until SIGTERM (Discord roles, Telegram notices)")
    p.add_argument("target", choices=TARGETS)
    envflag(p, "--batch-size", "XPSYNC_BATCH_SIZE", kind=int, default=100, help="deliveries claimed at once")
    envflag(p, "--lease-seconds", "XPSYNC_LEASE_SECONDS", kind=int, default=30, help="how long a claim is ours")
    envflag(p, "--poll-seconds", "XPSYNC_POLL_SECONDS", kind=float, default=2.0, help="poll even without NOTIFY")
    envflag(p, "--concurrency", "XPSYNC_CONCURRENCY", kind=int, default=16, help="platform calls in flight")
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("bot", help="run the Discord or Telegram bot until SIGTERM")
    p.add_argument("platform", choices=TARGETS)
    p.set_defaults(func=cmd_bot)

    p = sub.add_parser("web", help="serve the public board, profiles and JSON API until SIGTERM")
    envflag(p, "--bind", "XPSYNC_WEB_BIND", default="127.0.0.1:8080", help="HOST:PORT to listen on")
    p.set_defaults(func=cmd_web)
    websub = p.add_subparsers(dest="web_command", metavar="ACTION")
    keys = websub.add_parser("api-key", help="API keys of the JSON API")
    keysub = keys.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    k = keysub.add_parser("create", help="make a key NAME and print it once (needs xp_admin: "
                                         "XPSYNC_ADMIN_DATABASE_URL, else DATABASE_URL)")
    k.add_argument("name")
    k.set_defaults(func=cmd_web_api_key)
    tokens = websub.add_parser("admin-token", help="login links of the admin panel (/admin)")
    tokensub = tokens.add_subparsers(dest="link_action", required=True, metavar="ACTION")
    t = tokensub.add_parser("create", help="make a one-time login link for NAME and print it once (needs "
                                           "xp_admin: XPSYNC_ADMIN_DATABASE_URL, else DATABASE_URL)")
    t.add_argument("name", help="who signs in with it: the actor of what they change")
    t.add_argument("--role", choices=("admin", "viewer"), required=True, help="a viewer changes nothing")
    envflag(t, "--hours", "XPSYNC_TOKEN_HOURS", kind=float, default=24.0, help="how long the link may be used")
    t.set_defaults(func=cmd_web_admin_token)
    t = tokensub.add_parser("revoke", help="revoke every login link of NAME (its sessions are signed out)")
    t.add_argument("name")
    t.set_defaults(func=cmd_web_admin_token)

    p = sub.add_parser("reconcile", help="move people after threshold changes, then check and fix drift")
    envflag(p, "--dry-run", "XPSYNC_DRY_RUN", kind=bool, help="report only; exit 1 when there is drift")
    envflag(p, "--user", "XPSYNC_USER", kind=int, help="one person (user id) instead of everyone")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("stats", help="deliveries, failures, people, ledger, NOTIFY queue")
    envflag(p, "--json", "XPSYNC_JSON", kind=bool, help="print JSON instead of tables")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("cleanup", help="remove finished deliveries and old idempotency records (never the ledger)")
    envflag(p, "--older-than", "XPSYNC_OLDER_THAN", default="30 days", help="a PostgreSQL interval, e.g. '30 days'")
    p.set_defaults(func=cmd_cleanup)

    p = sub.add_parser("import", help="import XP from MEE6 or a CSV file (idempotent; --dry-run previews)")
    p.add_argument("format", choices=("mee6", "csv"))
    p.add_argument("file", type=Path, help="MEE6 leaderboard JSON (a page, a list of pages, pages one after "
                                           "another), or CSV platform,external_id,xp[,coins][,display_name][,source]")
    envflag(p, "--guild", "XPSYNC_GUILD", help="the Discord guild id of a MEE6 leaderboard")
    envflag(p, "--dry-run", "XPSYNC_DRY_RUN", kind=bool, help="print how many people land in each rank; write nothing")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export every account as CSV (platform,external_id,xp,coins,display_name,"
                                      "source), formula-safe; importing it back changes nothing")
    p.add_argument("format", choices=("csv",))
    envflag(p, "--file", "XPSYNC_FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_export)

    db = sub.add_parser("db", help="the embedded PostgreSQL (used when DATABASE_URL is unset)")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("url", help="print the connection URL (starting the server if needed)").set_defaults(
        func=cmd_db_url
    )
    p = dbsub.add_parser("psql", help="open psql on the database; extra arguments go to psql")
    p.set_defaults(func=cmd_db_psql, passthrough=True)
    dbsub.add_parser("stop", help="stop the embedded server").set_defaults(func=cmd_db_stop)
    dbsub.add_parser("schema", help="print the schema all migrations produce (sql/schema.sql)").set_defaults(
        func=cmd_db_schema
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
        configure_logging(settings)
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.psql_args = extra
        func: Command = args.func
        return func(args, settings)
    except ConfigError as exc:
        print(f"xpsync: {exc}", file=sys.stderr)
        return 2
    except ImportFileError as exc:
        print(f"xpsync: {exc}; nothing was imported", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"xpsync: cannot reach the database: {first}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        domain = translate(exc)
        if domain is not None:
            print(f"xpsync: {domain.sqlstate} {domain.message}", file=sys.stderr)
        else:
            primary = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)
            print(f"xpsync: {primary.strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
