"""A throw-away PostgreSQL from the programs of another installation (`--server-bin`), e.g. the 15
that Debian ships in /usr/lib/postgresql/15/bin, so that a benchmark compares it with the embedded 18.

It listens on a Unix socket in its own directory only. As root it runs as the `postgres` system
user that Debian's package creates, else as the embedded server's `pgserver` (PostgreSQL refuses
to run as root). It is stopped, and its
directory removed, when the benchmark leaves `bench_database`, and by a watchdog when the
benchmark dies in any other way.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

DATABASE = "xpsync"
OS_USERS = ("postgres", "pgserver")


class BinServer:
    """One data directory under `home`, run by the programs in `bin_dir`."""

    def __init__(self, home: Path, bin_dir: Path) -> None:
        self.home = Path(home).resolve()
        self.bin_dir = Path(bin_dir).resolve()
        self.pgdata = self.home / "pgdata"
        self.socket_dir = self.home / "socket"
        for program in ("initdb", "pg_ctl", "postgres"):
            if not (self.bin_dir / program).is_file():
                raise SystemExit(f"--server-bin {bin_dir}: no {program} there (e.g. /usr/lib/postgresql/15/bin)")

    def _user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        for name in OS_USERS:
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            return name
        raise SystemExit("--server-bin as root needs a system user to run PostgreSQL: postgres or pgserver")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), capture_output=True, text=True, check=False,
                              user=self._user(), timeout=120)

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.socket_dir), safe='/')}"

    def start(self, *, watch_pid: int | None = None, delete_on_exit: bool = False) -> str:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        user = self._user()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (self.home, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        steps = [
            (str(self.bin_dir / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-sync"),
            (str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-w", "-l", str(self.home / "log"),
             "-o", f"-h '' -k {self.socket_dir} -c max_connections=200", "start"),
        ]
        for step in steps:
            result = self._run(*step)
            if result.returncode != 0:
                raise RuntimeError(f"{Path(step[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")
        if watch_pid is not None:
            self._spawn_watchdog(watch_pid, delete_on_exit)
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        return self.url()

    def _spawn_watchdog(self, pid: int, delete: bool) -> None:
        args = [sys.executable, "-m", "bench.server", str(pid), str(self.home), str(self.bin_dir)]
        if delete:
            args.append("--delete")
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        os.posix_spawn(sys.executable, args, os.environ, file_actions=devnull, setsid=True)

    def stop(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop")
        return True


def _watch(pid: int, home: Path, bin_dir: Path, delete: bool) -> None:
    import time

    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
        time.sleep(0.5)
    BinServer(home, bin_dir).stop()
    if delete:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), "--delete" in sys.argv[4:])
