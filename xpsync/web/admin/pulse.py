"""Where the community stands, for every open admin page of this process at once.

While a page is open, one task keeps a dedicated LISTEN connection on the doorbells (xp_discord,
xp_telegram, xp_config, xp_admin) and reads `xp.admin_cursor()` on it: at once (debounced) when a
doorbell rings, and every TICK seconds whatever rings, because an ordinary award rings nothing (a
NOTIFY per award would cost the award path half its throughput). Each new cursor is handed to every
page's event stream. When no page is open the connection is closed.

A cursor is the newest position of each topic (the ledger, events, deliveries, the audit log, the
config version, heartbeats; `xp.admin_cursor()` may grow more topics, and they follow); an event's
id is its cursor, so a page that reconnects says where it was and is told what moved since, read
from the database (a NOTIFY sent while nobody listened is lost, the cursor is not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg import sql

from ...db import fetch_value
from ...listener.backoff import Backoff, sleep_unless

log = logging.getLogger(__name__)

CHANNELS = ("xp_discord", "xp_telegram", "xp_config", "xp_admin")
APPLICATION = "xpsync-web-events"  # the LISTEN connection, as pg_stat_activity shows it
Cursor = dict[str, int]


def cursor_id(cursor: Cursor) -> str:
    """An event id: `audit:3,beats:12,…` (topics in name order)."""
    return ",".join(f"{topic}:{cursor[topic]}" for topic in sorted(cursor))


def parse_cursor_id(text: str | None) -> Cursor | None:
    """The cursor of a Last-Event-ID; None for anything we did not send."""
    cursor: Cursor = {}
    for part in (text or "").split(",")[:32]:
        topic, _, value = part.partition(":")
        if not topic.isidentifier() or not value.isdigit() or len(value) > 19:
            return None
        cursor[topic] = int(value)
    return cursor or None


def moved(before: Cursor, after: Cursor) -> list[str]:
    """The topics whose position changed (a topic new to `after` counts as moved)."""
    return [topic for topic in sorted(after) if before.get(topic) != after[topic]]


class Pulse:
    TICK = 0.5  # the cursor is read this often while a page is open: an award shows within a second
    DEBOUNCE = 0.1  # doorbells ringing in a burst are one read
    IDLE = 10.0  # the LISTEN connection stays this long after the last page closed

    def __init__(self, url: str, closing: asyncio.Event) -> None:
        self.url = url
        self.closing = closing
        self.cursor: Cursor | None = None
        self.reads = 0
        self._version = 0
        self._subscribers = 0
        self._wanted = asyncio.Event()
        self._changed = asyncio.Condition()

    async def close(self) -> None:
        """The process is going: every stream ends at once (and lets the server stop)."""
        self.closing.set()
        self._wanted.set()
        async with self._changed:
            self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        self._subscribers += 1
        self._wanted.set()
        try:
            yield Subscription(self)
        finally:
            self._subscribers -= 1

    async def run(self) -> None:
        """The LISTEN loop, for the life of the process (started with the app, cancelled at its end)."""
        backoff = Backoff(0.1, 10.0)
        while not self.closing.is_set():
            await self._wanted.wait()
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                                 application_name=APPLICATION) as conn:
                    for channel in CHANNELS:
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    backoff.reset()
                    await self._listen(conn)
            except psycopg.Error as exc:
                delay = backoff.next()
                log.info("admin event stream lost its connection (%s); again in %.1fs", type(exc).__name__, delay)
                await sleep_unless(self.closing, delay)

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        idle_since: float | None = None
        loop = asyncio.get_running_loop()
        while not self.closing.is_set():
            await self._publish(await fetch_value(conn, "SELECT xp.admin_cursor()"))
            rang = [n async for n in conn.notifies(timeout=self.TICK, stop_after=1)]
            if rang:
                async for _ in conn.notifies(timeout=self.DEBOUNCE):
                    pass
            if self._subscribers:
                idle_since = None
            elif idle_since is None:
                idle_since = loop.time()
            elif loop.time() - idle_since > self.IDLE:
                self._wanted.clear()
                self.cursor = None  # a cursor nobody keeps fresh is not handed out
                return

    async def _publish(self, cursor: Cursor) -> None:
        self.reads += 1
        if cursor != self.cursor:
            async with self._changed:
                self.cursor = cursor
                self._version += 1
                self._changed.notify_all()


class Subscription:
    """One page's view of the pulse: the next cursor after the one it saw."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse
        self.seen = pulse._version

    async def next(self, within: float) -> Cursor | None:
        """The newer cursor, or None after `within` seconds (or once the process closes) with nothing new."""
        pulse = self.pulse
        async with pulse._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    pulse._changed.wait_for(lambda: pulse._version > self.seen or pulse.closing.is_set()), within)
            if pulse._version > self.seen and pulse.cursor is not None:
                self.seen = pulse._version
                return dict(pulse.cursor)
        return None
