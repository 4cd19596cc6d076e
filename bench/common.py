"""What the benchmarks share: a server of their own, pgbench, medians and a printed table."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from xpsync.embedded import EmbeddedServer
from xpsync.migrate import migrate

from .server import BinServer

Server = EmbeddedServer | BinServer


@contextmanager
def bench_database(*, durable: bool = False, server_bin: Path | None = None) -> Iterator[tuple[str, Server | None]]:
    """DATABASE_URL if set (a server you own), else a throw-away server: the embedded one, or the
    PostgreSQL whose programs are in `server_bin` (e.g. Debian's /usr/lib/postgresql/15/bin)."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        migrate(url)
        yield url, None
        return
    home = Path(tempfile.mkdtemp(prefix="xpsync-bench-"))
    server: Server = BinServer(home, server_bin) if server_bin else EmbeddedServer(home)
    url = server.start(watch_pid=os.getpid(), delete_on_exit=True)
    try:
        if not durable:
            with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
                # what is measured is the work of the functions, not the disk's fsync
                conn.execute("ALTER SYSTEM SET synchronous_commit = off")
                conn.execute("SELECT pg_reload_conf()")
        migrate(url)
        yield url, server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def pgbench(server: Server | None, url: str, script: str, *, clients: int, seconds: float,
            jobs: int = 2, options: str = "") -> float:
    """Transactions per second of `script` (pgbench syntax) with `clients` connections; `options`
    are the sessions' settings (PGOPTIONS, e.g. "-c synchronous_commit=off")."""
    binary = (server.bin_dir if server else Path(shutil.which("pgbench") or "pgbench").parent) / "pgbench"
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        result = subprocess.run(
            [str(binary), "-n", "-c", str(clients), "-j", str(min(jobs, clients)), "-T", str(max(1, round(seconds))),
             "-f", f.name, url], capture_output=True, text=True, check=False,
            env={**os.environ, "PGOPTIONS": options})
    finally:
        os.unlink(f.name)
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"pgbench failed: {result.stderr.strip() or result.stdout.strip()}")
    return float(match.group(1))


def median(values: list[float]) -> float:
    return statistics.median(values)


def show(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
