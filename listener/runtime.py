"""The listener loop: LISTEN as a doorbell, claim → platform call → ack, never a
transaction open across a platform call.

Two named tasks run under one TaskGroup: `listen-<target>` keeps a dedicated
autocommit LISTEN connection (reconnecting with jittered, capped backoff) and
rings a wake event; `work-<target>` drains due deliveries whenever woken, on
start and after every reconnect (catch-up), and every `poll_seconds` whatever
NOTIFY says, with two batches in flight so that the platform calls never wait
for a claim. A stop event ends both after the current batch. A task that dies
of anything but a lost connection takes the group down, and the process exits
non-zero so that systemd restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from xpsync.db import recover
from xpsync.heartbeat import Heartbeat
from xpsync.texts import wording

from . import store
from .backoff import Backoff, sleep_unless
from .handler import Delivery, Handler, Permanent, Retry

log = logging.getLogger(__name__)
BATCHES_IN_FLIGHT = 2  # one is claimed and looked up while the other's last platform calls finish


@dataclass(frozen=True)
class Options:
    batch_size: int = 100
    lease_seconds: int = 30
    poll_seconds: float = 2.0
    concurrency: int = 16
    guard_seconds: float = 60.0  # the longest one delivery may take, pacing included


def default_owner(target: str) -> str:
    return f"{target}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class _Failed:
    delivery: Delivery
    reason: str
    permanent: bool = False
    retry_after: float | None = None
    mute: bool = False


class Listener:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        url: str,
        handler: Handler[Any],
        *,
        options: Options = Options(),
        owner: str | None = None,
    ) -> None:
        self.pool = pool
        self.url = url
        self.handler = handler
        self.target = handler.target
        self.options = options
        self.owner = owner or default_owner(self.target)
        self.stats: Counter[str] = Counter()
        self.settings: dict[str, Any] = {}
        self._slots = asyncio.Semaphore(options.concurrency)
        # xp_config payloads not acted on yet: 'settings' (reload), 'ranks' (move people), 'texts' (the
        # operators' wording), any other table
        self._config: set[str] = {"settings", "ranks", "texts"}
        self.heartbeat = Heartbeat(pool, f"listener:{self.target}", self.owner)

    async def run(self, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        wake.set()  # catch up on start
        log.info("listening for %s deliveries as %s", self.target, self.owner)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._listen(wake, stop), name=f"listen-{self.target}")
            group.create_task(self._work(wake, stop), name=f"work-{self.target}")
            group.create_task(self.heartbeat.run(stop), name=f"heartbeat-{self.target}")

    async def _listen(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        backoff = Backoff(0.1, 10.0)
        channels = [f"xp_{self.target}", "xp_config"]
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await store.listen(conn, channels)
                    backoff.reset()
                    self._config.update(("settings", "ranks", "texts"))  # whatever changed while we were away
                    wake.set()
                    while not stop.is_set():
                        async for note in conn.notifies(timeout=1.0):
                            if note.channel == "xp_config":
                                self._config.add(note.payload)
                            wake.set()
            except psycopg.OperationalError as exc:
                self.stats["reconnects"] += 1
                delay = backoff.next()
                log.warning("LISTEN connection lost (%s); reconnecting in %.1fs", _first_line(exc), delay)
                await sleep_unless(stop, delay)

    async def _work(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        backoff = Backoff(0.1, 10.0)
        while not stop.is_set():
            await sleep_unless(wake, self.options.poll_seconds)  # woken by NOTIFY, or poll anyway
            wake.clear()
            try:
                await self._take_up_config()
                if self.target == "discord":
                    await self._expire()
                await self._drain(stop)
                backoff.reset()
            except psycopg.OperationalError as exc:
                delay = backoff.next()
                log.warning("database unavailable (%s); retrying in %.1fs", _first_line(exc), delay)
                await recover(self.pool)
                await sleep_unless(stop, delay)
                wake.set()

    async def _take_up_config(self) -> None:
        pending, self._config = self._config, set()
        if not pending:
            return
        try:
            async with self.pool.connection() as conn:
                version = await store.config_version(conn)  # before what it covers is read
                if "settings" in pending:
                    self.settings = await store.settings(conn)
                if "texts" in pending:
                    await wording.load(conn)
            if "settings" in pending:
                self.handler.configure(self.settings)
            if "ranks" in pending:
                moved = await self.rerank()
                if moved:
                    log.info("rank thresholds changed: %d people moved", moved)
            self.heartbeat.took_up(version)
        except BaseException:
            self._config |= pending  # not taken up: try again next time
            raise

    async def _expire(self) -> None:
        """Timed roles of the shop that ended: their resyncs are queued here and drained at once."""
        async with self.pool.connection() as conn:
            ended = await store.expire_purchases(conn)
        if ended:
            log.info("%d timed shop roles ended: their resyncs are queued", ended)

    async def rerank(self, batch_size: int = 1000) -> int:
        """Move everyone out of step with xp.ranks, one short transaction per batch."""
        moved = 0
        while True:
            async with self.pool.connection() as conn:
                n = await store.rerank_batch(conn, batch_size)
            moved += n
            if n == 0:
                return moved

    async def _drain(self, stop: asyncio.Event) -> None:
        """Deliver batch after batch until one comes back short (nothing more is due), with
        BATCHES_IN_FLIGHT batches under way at once."""

        async def batches() -> None:
            while not stop.is_set() and await self.drain_once() == self.options.batch_size:
                pass

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(BATCHES_IN_FLIGHT):
                    group.create_task(batches())
        except* psycopg.OperationalError as lost:
            raise lost.exceptions[0] from None  # the database went away: one reconnect, as with one batch

    async def drain_once(self) -> int:
        """Claim one batch, deliver it, record the outcomes; return how many were claimed."""
        async with self.pool.connection() as conn:
            deliveries = await store.claim(conn, self.target, self.owner, self.options.batch_size,
                                           self.options.lease_seconds)
            if not deliveries:
                return 0
            facts = await self.handler.lookup(conn, sorted({d.user_id for d in deliveries}))
        try:
            outcomes = await asyncio.gather(*(self._deliver(d, facts.get(d.user_id)) for d in deliveries))
        except asyncio.CancelledError:
            await self._release(deliveries)
            raise
        await self._record(outcomes)
        self.heartbeat.note(len(deliveries))
        return len(deliveries)

    async def _release(self, deliveries: list[Delivery]) -> None:
        """Cancelled mid-batch (a sibling task died): hand the claims back rather than let the leases run
        out. Best effort: what is not released is reclaimed when its lease expires."""
        try:
            async with asyncio.timeout(2), self.pool.connection() as conn:
                released = await store.release(conn, self.owner, [d.id for d in deliveries])
            log.info("released %d claimed deliveries", released)
        except Exception as exc:  # noqa: BLE001 - best effort: the leases expire anyway
            log.info("could not release claimed deliveries (%s); their leases will expire", _first_line(exc))

    async def _deliver(self, delivery: Delivery, facts: Any) -> tuple[Delivery, str | None] | _Failed:
        async with self._slots:
            try:
                async with asyncio.timeout(self.options.guard_seconds):
                    ref = await self.handler.handle(delivery, facts)
            except Permanent as exc:
                return _Failed(delivery, exc.reason, permanent=True, mute=exc.mute)
            except Retry as exc:
                return _Failed(delivery, exc.reason, retry_after=exc.retry_after)
            except TimeoutError:
                return _Failed(delivery, f"timed out after {self.options.guard_seconds:g}s")
            except Exception as exc:
                log.exception("delivery %s (%s) failed", delivery.id, delivery.kind)
                return _Failed(delivery, f"{type(exc).__name__}: {_first_line(exc)}")
            return delivery, ref

    async def _record(self, outcomes: list[tuple[Delivery, str | None] | _Failed]) -> None:
        done = [o for o in outcomes if not isinstance(o, _Failed)]
        failed = [o for o in outcomes if isinstance(o, _Failed)]
        async with self.pool.connection() as conn:
            if done:
                acked = await store.ack(conn, self.owner, done)
                self.stats["done"] += acked
                self.stats["lost_leases"] += len(done) - acked
            for f in failed:
                status = await store.fail(conn, self.owner, f.delivery, f.reason, permanent=f.permanent,
                                          retry_after=f.retry_after, mute=f.mute)
                self.stats["retried" if status == "pending" else status or "lost_leases"] += 1
                log.log(logging.WARNING if f.permanent or status == "dead" else logging.INFO,
                        "delivery %s to %s %s: %s", f.delivery.id, self.target, status, f.reason)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
