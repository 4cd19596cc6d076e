"""What a running bot keeps in step with the database: it LISTENs on `xp_config` on a connection of
its own, takes every change of the operator tables up within a second (the callbacks drop what it
keeps), and reports the config version it took up in its heartbeat.

    async with presence(pool, url, "bot:telegram", xp) as watch:
        watch.on_change(drop_my_cache)   # async (tables changed) -> None
        ...run the bot...

The listeners LISTEN on `xp_config` already (listener/runtime.py) and use only the Heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .calls import Calls
from .db import fetch_value
from .heartbeat import Heartbeat
from .listener.backoff import Backoff, sleep_unless
from .texts import wording

log = logging.getLogger(__name__)

CHANNEL = "xp_config"
Callback = Callable[[frozenset[str]], Awaitable[None]]


class ConfigWatch:
    def __init__(self, url: str, pool: AsyncConnectionPool, heartbeat: Heartbeat) -> None:
        self.url = url
        self.pool = pool
        self.heartbeat = heartbeat
        self.version: int | None = None
        self._callbacks: list[Callback] = []

    def on_change(self, callback: Callback) -> None:
        """Call `callback` with the names of the tables that changed (all of them after a reconnect)."""
        self._callbacks.append(callback)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(0.1, 10.0)
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    backoff.reset()
                    await self.take_up(frozenset({"*"}))  # whatever changed while nobody listened
                    while not stop.is_set():
                        changed = {note.payload async for note in conn.notifies(timeout=1.0)}
                        if changed:
                            await self.take_up(frozenset(changed))
            except (psycopg.Error, PoolTimeout, OSError) as exc:
                delay = backoff.next()
                log.info("config watch lost its connection (%s); again in %.1fs", type(exc).__name__, delay)
                await sleep_unless(stop, delay)

    async def take_up(self, changed: frozenset[str]) -> None:
        """Read the version first, then let the callbacks re-read what they keep: what they read is at
        least that version."""
        async with self.pool.connection() as conn:
            version = int(await fetch_value(conn, "SELECT xp.config_version()"))
        for callback in self._callbacks:
            await callback(changed)
        self.version = version
        self.heartbeat.took_up(version)


@contextlib.asynccontextmanager
async def presence(pool: AsyncConnectionPool, url: str, kind: str, calls: Calls | None = None,
                   ) -> AsyncIterator[ConfigWatch]:
    """A bot's heartbeat and config watch, running while the block runs; every call made through
    `calls` counts as work in the heartbeat."""
    heartbeat = Heartbeat(pool, kind)
    watch = ConfigWatch(url, pool, heartbeat)

    async def reword(changed: frozenset[str]) -> None:
        if changed & wording.TEXTS_CHANGED:
            async with pool.connection() as conn:
                await wording.load(conn)

    watch.on_change(reword)  # the operators' wording of the texts, said at once
    if calls is not None:
        calls.observer = heartbeat.note
    stop = asyncio.Event()
    tasks = [asyncio.create_task(heartbeat.run(stop), name=f"heartbeat-{kind}"),
             asyncio.create_task(watch.run(stop), name=f"config-watch-{kind}")]
    try:
        yield watch
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
