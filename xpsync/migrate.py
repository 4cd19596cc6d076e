"""`xpsync migrate`: the numbered migrations of sql/migrations/, then the functions of sql/functions/.

One run holds an advisory lock for its whole length, so concurrent runs take
turns (the second finds nothing left to do). Pending migrations, their yoyo
records and the function refresh (xpsync.sqlfunctions) commit together in one
transaction: a failure anywhere leaves the database as it was.

A database made by the history that 0001_baseline squashes (0001_schema …
0010_bulk_awards, recorded by yoyo) is adopted: 0001_baseline is marked
applied, and the later migrations and the functions bring it up to date. Any
other history that this release cannot continue is refused, before anything is
written, with one line saying what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations
from yoyo.migrations import Migration, MigrationList, default_migration_table

from .db import masked
from .settings import ConfigError
from .sqlfunctions import FunctionFileError, Refresh, first_line, refresh, up_to_date

log = logging.getLogger(__name__)

BASELINE = "0001_baseline"
# The unreleased history that 0001_baseline squashes, as yoyo recorded it.
LEGACY = (
    "0001_schema", "0002_ledger_core", "0003_activity", "0004_reads", "0005_identity",
    "0006_delivery", "0007_operations", "0008_progression", "0009_games", "0010_bulk_awards",
)
# pg_advisory_lock key of `xpsync migrate` (the bytes of "xpsync m")
_LOCK = int.from_bytes(b"xpsync m", "big") - (1 << 63)


class MigrationRefused(ConfigError):
    """This database cannot be migrated by this xpsync; the message says what to do instead."""


def sql_dir() -> Path:
    """sql/ of a checkout (editable install), or the copy shipped inside the package."""
    here = Path(__file__).resolve().parent
    packaged = here / "sql"
    return packaged if packaged.is_dir() else here.parent / "sql"


def migrations() -> MigrationList:
    return read_migrations(str(sql_dir() / "migrations"))


def function_files() -> list[Path]:
    """sql/functions/*.sql in the order they are applied."""
    return sorted((sql_dir() / "functions").glob("*.sql"))


def yoyo_url(url: str) -> str:
    """yoyo picks psycopg 3 by the postgresql+psycopg:// scheme."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


_UNCHANGED = Refresh(False)


@dataclass(frozen=True)
class Result:
    """What one `migrate` did."""

    applied: tuple[str, ...]
    adopted: bool = False
    functions: Refresh = _UNCHANGED

    def __str__(self) -> str:
        done = f"applied {len(self.applied)} migration(s)" + (f": {', '.join(self.applied)}" if self.applied else "")
        if self.adopted:
            done = f"adopted a database made by {LEGACY[0]} … {LEGACY[-1]} as {BASELINE}; " + done
        functions = "refreshed" if self.functions.refreshed else "up to date"
        if self.functions.dropped:
            functions += f", dropped {', '.join(self.functions.dropped)}"
        return f"{done}; functions: {functions}"


@dataclass(frozen=True)
class _Plan:
    pending: tuple[str, ...]
    adopt: bool


def migrate(url: str) -> Result:
    """Apply what is pending and refresh the functions when they differ from sql/functions."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))  # released with the connection
        plan = _plan(url, *_history(conn))
        files = function_files()
        if not plan.pending and not plan.adopt and up_to_date(conn, files):
            return Result(())
        for m in migrations():
            if m.id in plan.pending:
                _check_transactional(m)
        return _apply(url, plan, files)


def _apply(url: str, plan: _Plan, files: list[Path]) -> Result:
    backend = get_backend(yoyo_url(url))
    try:
        with backend.lock():
            todo = [m for m in backend.to_apply(migrations()) if m.id in plan.pending]
            with backend.transaction():
                if plan.adopt:
                    backend.mark_one(_migration(BASELINE))
                for m in todo:
                    log.info("applying %s", m.id)
                    try:
                        m.process_steps(backend, "apply")
                    except psycopg.Error as exc:
                        raise MigrationRefused(f"nothing was migrated: {m.id}: {first_line(exc)}") from exc
                    backend.log_migration(m, "apply")
                    backend.mark_one(m, log=False)
                try:
                    functions = refresh(backend.connection, files)
                except FunctionFileError as exc:
                    raise MigrationRefused(f"nothing was migrated: {exc}") from exc
        return Result(tuple(m.id for m in todo), plan.adopt, functions)
    finally:
        backend.connection.close()


def _migration(migration_id: str) -> Migration:
    return next(m for m in migrations() if m.id == migration_id)


def _check_transactional(m: Migration) -> None:
    m.load()
    if not m.use_transactions:
        raise MigrationRefused(
            f"{m.id} says `transactional: false`, but xpsync applies migrations and functions in one transaction"
        )


def _history(conn: psycopg.Connection) -> tuple[bool, list[str]]:
    """Whether the xp schema exists, and the migration ids yoyo recorded (none without its table)."""
    has_schema, has_records = conn.execute(
        "SELECT to_regnamespace('xp') IS NOT NULL, to_regclass(%s) IS NOT NULL", (default_migration_table,)
    ).fetchone()  # type: ignore[misc]
    if not has_records:
        return has_schema, []
    query = sql.SQL("SELECT migration_id FROM {}").format(sql.Identifier(default_migration_table))
    return has_schema, [r[0] for r in conn.execute(query)]


def _has_schema(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT to_regnamespace('xp') IS NOT NULL").fetchone()[0])  # type: ignore[index]


def _plan(url: str, has_schema: bool, applied_ids: list[str]) -> _Plan:
    """What to do with a database of this history, or MigrationRefused."""
    ours = [m.id for m in migrations()]
    applied = set(applied_ids)
    where = f"the database at {masked(url)}"
    foreign = sorted(applied - set(ours) - set(LEGACY))
    if foreign:
        raise MigrationRefused(
            f"{where} records migration(s) this xpsync does not have ({', '.join(foreign)}): "
            "it was migrated by a newer xpsync (or another yoyo project); migrate it with that one"
        )
    if BASELINE in applied or (not applied and not has_schema):
        return _Plan(tuple(i for i in ours if i not in applied), adopt=False)
    if not applied:
        raise MigrationRefused(
            f"{where} has an xp schema that no `xpsync migrate` recorded (loaded from sql/schema.sql?): "
            "migrate an empty database instead"
        )
    if applied == set(LEGACY) and has_schema:
        return _Plan(tuple(i for i in ours if i != BASELINE), adopt=True)
    done = [i for i in LEGACY if i in applied]
    if not has_schema or not done or applied - set(LEGACY):
        raise MigrationRefused(
            f"{where} records {', '.join(sorted(applied))} but "
            + ("has no xp schema" if not has_schema else f"not {BASELINE}")
            + ": it is in no state xpsync can continue; restore it from a backup or migrate an empty database"
        )
    raise MigrationRefused(
        f"{where} was migrated by an older xpsync only up to {done[-1]}: bring it to {LEGACY[-1]} with an xpsync "
        f"from before {BASELINE} (its `xpsync migrate`), then run this one again"
    )


def require_migrated(url: str) -> str:
    """`url` when its database is migrated up to this xpsync; otherwise MigrationRefused, one line.

    A login role of least privilege (a bot's, a listener's) may not read yoyo's records: for it the
    check is that the xp schema exists."""
    with psycopg.connect(url, autocommit=True) as conn:
        readable = conn.execute(
            "SELECT to_regclass(%s) IS NULL OR has_table_privilege(to_regclass(%s), 'SELECT')",
            (default_migration_table, default_migration_table),
        ).fetchone()[0]  # type: ignore[index]
        has_schema, applied = _history(conn) if readable else (_has_schema(conn), None)
    if not has_schema:
        raise MigrationRefused(f"the database at {masked(url)} is not migrated: run `xpsync migrate`")
    missing = [] if applied is None else [m.id for m in migrations() if m.id not in applied]
    if missing:
        raise MigrationRefused(
            f"the database at {masked(url)} is not migrated up to this xpsync ({', '.join(missing)} pending): "
            "run `xpsync migrate`"
        )
    return url
