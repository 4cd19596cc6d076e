"""Heartbeats: a running listener or bot tells the database that it runs, which config version it
has taken up and what it did (`xp.heartbeat`), so that the admin panel shows who runs, who went
quiet and who took a change up.

A beat goes out every `every` seconds, at most once a second while work is noted, and at once when
a change was taken up. A beat that fails (the database is away) is only logged: a heartbeat never
takes its process down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from . import __version__

log = logging.getLogger(__name__)

KINDS = ("listener:discord", "listener:telegram", "bot:discord", "bot:telegram")


def instance_name(kind: str) -> str:
    """Unique per process: `bot-discord@host:pid:ab12cd`."""
    return f"{kind.replace(':', '-')}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Heartbeat:
    def __init__(self, pool: AsyncConnectionPool, kind: str, instance: str | None = None, *,
                 every: float = 5.0, at_most: float = 1.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown heartbeat kind {kind!r}")
        self.pool = pool
        self.kind = kind
        self.instance = instance or instance_name(kind)
        self.every = every
        self.at_most = at_most
        self.config_version: int | None = None  # the change taken up last
        self.handled = 0
        self.last_batch: int | None = None
        self.last_batch_at: datetime | None = None
        self.beats = 0
        self._sent = float("-inf")
        self._noted = False
        self._urgent = False
        self._wake = asyncio.Event()

    def note(self, n: int = 1) -> None:
        """Work done (a batch of n deliveries, a bot call): said within a second."""
        self.handled += n
        self.last_batch, self.last_batch_at = n, datetime.now(UTC)
        self._noted = True
        self._wake.set()

    def took_up(self, config_version: int) -> None:
        """The process now runs with this config version: said at once."""
        self.config_version = config_version
        self._urgent = True
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop`, then say so (best effort). Cancelled, it says nothing more: a process that
        died goes stale on the panel, one that stopped shows as stopped."""
        while not stop.is_set():
            await self.beat()
            await self._until_due(stop)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self.beat(stopping=True)

    async def beat(self, *, stopping: bool = False) -> int | None:
        """One heartbeat now; the database's current config version, or None when it did not answer."""
        self._sent, self._noted, self._urgent = time.monotonic(), False, False
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT xp.heartbeat(%s, %s, %s, %s, %s, %s, %s, %s)",
                    (self.instance, self.kind, __version__, self.config_version, self.handled, self.last_batch,
                     self.last_batch_at, stopping))
                row = await cur.fetchone()
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            log.info("heartbeat not sent: %s", type(exc).__name__)
            return None
        self.beats += 1
        return None if row is None else int(row[0])

    async def _until_due(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            since = time.monotonic() - self._sent
            if self._urgent or since >= self.every or (self._noted and since >= self.at_most):
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(0.25, self.every - since))
