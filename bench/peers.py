"""The peers: procrastinate and pgqueuer processing no-op jobs from the same server.

Each gets a schema of its own (through search_path, so nothing of theirs lands
next to `xp`), the same number of jobs enqueued up front, and a worker that
runs until the queue is empty. What is timed is from the worker's start to the
last job's end, as for our listener; the jobs do nothing, so the figure is the
queue's own cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

CONCURRENCY = 64  # as our listener's XPSYNC_CONCURRENCY in bench.delivery
BATCH = 200  # as our listener's XPSYNC_BATCH_SIZE


def _schema_url(url: str, schema: str) -> str:
    return make_conninfo(url, options=f"-c search_path={schema}")


async def _procrastinate(url: str, jobs: int) -> float:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url, min_size=1, max_size=CONCURRENCY + 2))

    finished = 0.0

    @app.task(name="noop")
    async def noop() -> None:
        nonlocal finished
        finished = time.monotonic()

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await noop.batch_defer_async(*({} for _ in range(jobs)))
        started = time.monotonic()
        await app.run_worker_async(wait=False, concurrency=CONCURRENCY, listen_notify=False,
                                   fetch_job_polling_interval=0.05, install_signal_handlers=False, delete_jobs="never")
        left = await app.connector.execute_query_one_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE status <> 'succeeded'")
    if left["n"]:
        raise SystemExit(f"procrastinate left {left['n']} of {jobs} jobs unfinished")
    return jobs / (finished - started)


async def _pgqueuer(url: str, jobs: int) -> float:
    from datetime import timedelta

    import pgqueuer
    from pgqueuer.domain.types import QueueExecutionMode

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        driver = pgqueuer.PsycopgDriver(conn)
        queries = pgqueuer.Queries(driver)
        await queries.install(create_schema=False)
        await queries.enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
        manager = pgqueuer.QueueManager(queries)
        done, finished = 0, 0.0

        @manager.entrypoint("noop")
        async def noop(job: pgqueuer.Job) -> None:
            nonlocal done, finished
            done, finished = done + 1, time.monotonic()

        started = time.monotonic()
        await manager.run(batch_size=BATCH, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1),
                          max_concurrent_tasks=2 * BATCH, log_aggregation_interval=timedelta(0))
    if done != jobs:
        raise SystemExit(f"pgqueuer ran {done} of {jobs} jobs")
    return jobs / (finished - started)


PEERS: dict[str, Callable[[str, int], Coroutine[Any, Any, float]]] = {
    "procrastinate": _procrastinate,
    "pgqueuer": _pgqueuer,
}


def drain_rates(url: str, jobs: int) -> dict[str, float]:
    """Jobs per second each peer's worker drains, each in a fresh schema dropped afterwards."""
    rates = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, run in PEERS.items():
            schema = f"bench_{name}"
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            try:
                rates[name] = asyncio.run(run(_schema_url(url, schema), jobs))
            finally:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return rates
