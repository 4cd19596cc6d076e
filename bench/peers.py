"""The peers: procrastinate and pgqueuer jobs that make a delivery's platform calls, from the same server
to the same sandbox.

Each gets a schema of its own (through search_path, so nothing of theirs lands
next to `xp`), the same number of jobs enqueued up front, one job per delivery
(its argument the account), and a worker that runs until the queue is empty.
A job makes the same HTTP calls as a delivery of our listener (Discord: read
the member, add the rank's role; Telegram: send the notice), with the bare
client of bench/ceiling.py and the listener's concurrency, so that the ratio
compares queue with queue. What is timed is from the worker's start to the
last job's end, as for our listener.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from .ceiling import CALLS

CONCURRENCY = 64  # as our listener's XPSYNC_CONCURRENCY in bench.delivery
BATCH = 200  # as our listener's XPSYNC_BATCH_SIZE


@dataclass(frozen=True)
class Work:
    """What each job does: a delivery's platform calls for one account of a range of its own."""

    target: str
    env: dict[str, str]
    role: tuple[str, str]  # the (guild, role) a Discord rank-up adds
    first_account: int

    async def call(self, session: aiohttp.ClientSession, n: int) -> None:
        prefix = self.target.upper()
        await CALLS[self.target](session, self.env[f"{prefix}_API_BASE"], self.env[f"{prefix}_TOKEN"], self.role,
                                 self.first_account + n)


def _schema_url(url: str, schema: str) -> str:
    return make_conninfo(url, options=f"-c search_path={schema}")


async def _procrastinate(url: str, jobs: int, work: Work) -> float:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url, min_size=1, max_size=CONCURRENCY + 2))
    finished = 0.0

    async with aiohttp.ClientSession() as session:

        @app.task(name="deliver")
        async def deliver(n: int) -> None:
            nonlocal finished
            await work.call(session, n)
            finished = time.monotonic()

        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            await deliver.batch_defer_async(*({"n": n} for n in range(jobs)))
            started = time.monotonic()
            await app.run_worker_async(wait=False, concurrency=CONCURRENCY, listen_notify=False,
                                       fetch_job_polling_interval=0.05, install_signal_handlers=False,
                                       delete_jobs="never")
            left = await app.connector.execute_query_one_async(
                "SELECT count(*) AS n FROM procrastinate_jobs WHERE status <> 'succeeded'")
    if left["n"]:
        raise SystemExit(f"procrastinate left {left['n']} of {jobs} jobs unfinished")
    return jobs / (finished - started)


async def _pgqueuer(url: str, jobs: int, work: Work) -> float:
    from datetime import timedelta

    import pgqueuer
    from pgqueuer.domain.types import QueueExecutionMode

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn, \
            aiohttp.ClientSession() as session:
        driver = pgqueuer.PsycopgDriver(conn)
        queries = pgqueuer.Queries(driver)
        await queries.install(create_schema=False)
        await queries.enqueue(["deliver"] * jobs, [str(n).encode() for n in range(jobs)], [0] * jobs)
        manager = pgqueuer.QueueManager(queries)
        slots = asyncio.Semaphore(CONCURRENCY)  # the listener's platform calls in flight
        done, finished = 0, 0.0

        @manager.entrypoint("deliver")
        async def deliver(job: pgqueuer.Job) -> None:
            nonlocal done, finished
            assert job.payload is not None
            async with slots:
                await work.call(session, int(job.payload))
            done, finished = done + 1, time.monotonic()

        started = time.monotonic()
        await manager.run(batch_size=BATCH, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1),
                          max_concurrent_tasks=2 * BATCH, log_aggregation_interval=timedelta(0))
    if done != jobs:
        raise SystemExit(f"pgqueuer ran {done} of {jobs} jobs")
    return jobs / (finished - started)


PEERS: dict[str, Callable[[str, int, Work], Coroutine[Any, Any, float]]] = {
    "procrastinate": _procrastinate,
    "pgqueuer": _pgqueuer,
}


def drain_rates(url: str, jobs: int, work: Work) -> dict[str, float]:
    """Jobs per second each peer's worker drains, each in a fresh schema dropped afterwards, each on
    accounts of its own."""
    rates = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for i, (name, run) in enumerate(PEERS.items()):
            schema = f"bench_{name}"
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            try:
                rates[name] = asyncio.run(run(_schema_url(url, schema), jobs,
                                              replace(work, first_account=work.first_account + (i + 1) * jobs)))
            finally:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return rates
