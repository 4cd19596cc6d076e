"""The listener loop: LISTEN as a doorbell, claim → platform call → ack, never a
transaction open across a platform call.

Two named tasks run under one TaskGroup: `listen-<target>` keeps a dedicated
autocommit LISTEN connection (reconnecting with jittered, capped backoff) and
rings a wake event; `work-<target>` drains due deliveries whenever woken, on
start and after every reconnect (catch-up), and every `poll_seconds` whatever
NOTIFY says. It keeps up to `concurrency` deliveries in flight, claiming again
as room frees up, and records each outcome as soon as its platform call is
over (listener/outcomes.py), so that pacing never holds a finished delivery
past its lease. A stop event ends both after what is in flight. A token the
platform rejects (ConfigError) hands the claims back and stops the listener
(exit 2); a task that dies of anything but a lost connection takes the group
down, and the process exits non-zero so that systemd restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from xpsync.db import recover
from xpsync.heartbeat import Heartbeat
from xpsync.settings import ConfigError
from xpsync.texts import wording

from . import store
from .backoff import Backoff, sleep_unless
from .handler import Delivery, Handler, Permanent, Retry, Unsent
from .outcomes import Done, Failed, Outcome, Recorder
from .pace import Deferred, bounded

log = logging.getLogger(__name__)
MIN_LEASE_LEFT = 1.0  # a delivery whose lease has less left than this goes back for another claim


@dataclass(frozen=True)
class Options:
    batch_size: int = 100
    lease_seconds: int = 30
    poll_seconds: float = 2.0
    concurrency: int = 16


def default_owner(target: str) -> str:
    return f"{target}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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
        self.recorder = Recorder(pool, self.owner, self.target, self.stats)
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
        """Deliver until nothing more is due: up to `concurrency` deliveries in flight, claiming again as
        soon as a quarter of them are over (a claim is never bigger than the room for it, so that nothing
        claimed waits for a free call slot while its lease runs out). Each outcome is recorded as soon as
        it is known. Interrupted (stopped by cancellation, a rejected token, the database gone), it hands
        back whatever it claimed and has not recorded."""
        concurrency = self.options.concurrency
        refill = max(1, concurrency // 4)
        room = asyncio.Condition()
        busy = 0
        unrecorded: dict[int, Delivery] = {}

        def has_room() -> bool:
            return busy <= concurrency - refill

        async def deliver(delivery: Delivery, facts: Any) -> None:
            nonlocal busy
            try:
                await self.recorder.record(await self._deliver(delivery, facts))
                del unrecorded[delivery.id]
            finally:
                async with room:
                    busy -= 1
                    room.notify()

        try:
            async with asyncio.TaskGroup() as group:
                while not stop.is_set():
                    async with room:
                        await room.wait_for(has_room)
                        wanted = min(self.options.batch_size, concurrency - busy)
                    deliveries, facts = await self._claim(wanted)
                    if not deliveries:
                        break  # nothing due: what is in flight finishes, then we wait for the doorbell
                    busy += len(deliveries)
                    unrecorded.update((d.id, d) for d in deliveries)
                    self.heartbeat.note(len(deliveries))
                    for delivery in deliveries:
                        group.create_task(deliver(delivery, facts.get(delivery.user_id)))
        except BaseException as exc:
            await self._release(list(unrecorded.values()))
            if isinstance(exc, BaseExceptionGroup):
                raise first_cause(exc) from None
            raise

    async def _claim(self, wanted: int) -> tuple[list[Delivery], Mapping[int, Any]]:
        """Claim up to `wanted` due deliveries and look up what the handler needs about their people."""
        # taken before the claim, so on the safe side of the lease the database gives
        lease_ends = asyncio.get_running_loop().time() + self.options.lease_seconds
        async with self.pool.connection() as conn:
            deliveries = await store.claim(conn, self.target, self.owner, wanted, self.options.lease_seconds,
                                           lease_ends)
            if not deliveries:
                return [], {}
            return deliveries, await self.handler.lookup(conn, sorted({d.user_id for d in deliveries}))

    async def _release(self, deliveries: list[Delivery]) -> None:
        """Interrupted mid-batch (stopped, a sibling task died, a rejected token): hand the claims back
        rather than let the leases run out. Best effort: what is not released is reclaimed when its lease
        expires."""
        if not deliveries:
            return
        try:
            async with asyncio.timeout(2), self.pool.connection() as conn:
                released = await store.release(conn, self.owner, [d.id for d in deliveries])
            log.info("released %d claimed deliveries", released)
        except Exception as exc:  # noqa: BLE001 - best effort: the leases expire anyway
            log.info("could not release claimed deliveries (%s); their leases will expire", _first_line(exc))

    async def _deliver(self, delivery: Delivery, facts: Any) -> Outcome:
        """One delivery's platform calls, inside its lease; a rejected token (ConfigError) stops the listener."""
        if delivery.lease_ends - asyncio.get_running_loop().time() < MIN_LEASE_LEFT:
            return Failed(delivery, "its lease was nearly over before it started", retry_after=0, routine=True)
        try:
            async with asyncio.timeout_at(delivery.lease_ends):
                answer = await self.handler.handle(delivery, facts)
        except ConfigError:
            raise
        except Permanent as exc:
            return Failed(delivery, exc.reason, permanent=True, mute=exc.mute)
        except Retry as exc:
            return Failed(delivery, exc.reason, retry_after=None if exc.retry_after is None
                          else bounded(exc.retry_after), routine=isinstance(exc, Deferred))
        except TimeoutError:
            return Failed(delivery, "not delivered within its lease")
        except Exception as exc:
            log.exception("delivery %s (%s) failed", delivery.id, delivery.kind)
            return Failed(delivery, f"{type(exc).__name__}: {_first_line(exc)}")
        if isinstance(answer, Unsent):
            return Done(delivery, note=answer.note)
        return Done(delivery, ref=answer)


def first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What stopped a group of tasks: a rejected token before anything else, else the first failure."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return next((e for e in leaves if isinstance(e, ConfigError)), leaves[0])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
