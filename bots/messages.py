"""Chat messages counted in batches: a bot buffers what arrives within a few tens of milliseconds
and records it with one xp.record_messages call (one commit for all of them, not one each).

Nothing is lost: the buffer is flushed when the bot stops, and a flush that cannot reach the
database (a restart, a dropped connection) is retried, with the same messages, until it goes
through or `give_up_after` seconds have passed, when one line says how many were not counted.
Retrying is safe because a message counts once per (platform, chat, message id) whatever the
number of calls. A message the database refuses (XP00x) is logged and does not hold back the others.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import psycopg

log = logging.getLogger(__name__)


class RecordsMessages(Protocol):
    platform: str

    async def record_messages(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


class MessageBuffer:
    """Messages waiting for their one call: at most `delay` seconds, or until `size` are waiting."""

    def __init__(self, xp: RecordsMessages, *, delay: float = 0.05, size: int = 500,
                 give_up_after: float = 60.0) -> None:
        self.xp = xp
        self.delay = delay
        self.size = size
        self.give_up_after = give_up_after
        self._pending: list[dict[str, Any]] = []
        self._timer: asyncio.Task[None] | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self._closed = False

    def add(self, external_id: str, chat_id: str, message_id: str, length: int, display_name: str | None) -> None:
        """Queue one message; it is recorded within `delay` seconds."""
        if self._closed:
            raise RuntimeError("the message buffer is closed")
        self._pending.append({"platform": self.xp.platform, "external_id": external_id, "chat_id": chat_id,
                              "message_id": message_id, "length": length, "display_name": display_name})
        if len(self._pending) >= self.size:
            self._start_flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._after_delay(), name="message-buffer-timer")

    async def _after_delay(self) -> None:
        await asyncio.sleep(self.delay)
        self._timer = None
        self._start_flush()

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.create_task(self._record(batch), name="message-buffer-flush")
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def _record(self, batch: list[dict[str, Any]]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.give_up_after
        wait = 0.1
        while True:
            try:
                rows = await self.xp.record_messages(batch)
                break
            except (psycopg.OperationalError, psycopg.InterfaceError, OSError) as exc:
                if loop.time() + wait > deadline:
                    log.error("%d chat messages were not counted: the database stayed out of reach for %.0f s "
                              "(%s)", len(batch), self.give_up_after, exc)
                    return
                log.warning("recording %d chat messages failed (%s); retrying in %.1f s", len(batch), exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 2.0)
        for row in rows:
            if row["error_code"]:
                item = batch[row["item"] - 1]
                log.warning("message %s in chat %s was not counted: %s %s", item["message_id"], item["chat_id"],
                            row["error_code"], row["error"])

    async def flush(self) -> None:
        """Record everything waiting now, and wait for every call under way."""
        self._start_flush()
        while self._flushing:
            await asyncio.gather(*self._flushing)

    async def close(self) -> None:
        """Flush and take no more messages (the bot is stopping)."""
        self._closed = True
        await self.flush()
