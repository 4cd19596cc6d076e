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


@contextmanager
def bench_database(*, durable: bool = False) -> Iterator[tuple[str, EmbeddedServer | None]]:
    """DATABASE_URL if set (a server you own), else a throw-away embedded server."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        migrate(url)
        yield url, None
        return
    home = Path(tempfile.mkdtemp(prefix="xpsync-bench-"))
    server = EmbeddedServer(home)
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


def pgbench(server: EmbeddedServer | None, url: str, script: str, *, clients: int, seconds: float,
            jobs: int = 2) -> float:
    """Transactions per second of `script` (pgbench syntax) with `clients` connections."""
    binary = (server.bin_dir if server else Path(shutil.which("pgbench") or "pgbench").parent) / "pgbench"
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        result = subprocess.run(
            [str(binary), "-n", "-c", str(clients), "-j", str(min(jobs, clients)), "-T", str(max(1, round(seconds))),
             "-f", f.name, url], capture_output=True, text=True, check=False)
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
