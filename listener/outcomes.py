"""Recording deliveries' outcomes as soon as each is known.

A delivery is acked (or its failure recorded) the moment its own platform call
is over, not when its batch is: a batch paced over seconds would otherwise
hold finished deliveries past their lease, and another instance would send
them again. Outcomes that arrive while one transaction is being written go
together into the next (group commit), so that acking one by one costs no
throughput.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from . import store
from .handler import Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Done:
    delivery: Delivery
    ref: str | None = None  # the platform's reference (a Telegram message id)
    note: str | None = None  # why nobody was told, when nobody was


@dataclass(frozen=True)
class Failed:
    delivery: Delivery
    reason: str
    permanent: bool = False
    retry_after: float | None = None  # a wait (a 429, a pace slot after the lease): not a failed attempt
    mute: bool = False
    routine: bool = False  # deferred by the pace: logged only at DEBUG


Outcome = Done | Failed


class Recorder:
    def __init__(self, pool: AsyncConnectionPool, owner: str, target: str, stats: Counter[str]) -> None:
        self.pool = pool
        self.owner = owner
        self.target = target
        self.stats = stats
        self._waiting: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._writing = asyncio.Lock()

    async def record(self, outcome: Outcome) -> None:
        """Return once the outcome is in the database (with whatever else was waiting meanwhile)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((outcome, mine))
        async with self._writing:
            if not mine.done():
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([o for o, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                            future.exception()  # retrieved: only `mine` is awaited when we are cancelled
                    raise
                except BaseException:  # cancelled: the transaction rolled back, the others go in the next one
                    self._waiting[:0] = [(o, f) for o, f in batch if f is not mine]
                    raise
                for _, future in batch:
                    future.set_result(None)
        await mine

    async def _write(self, outcomes: list[Outcome]) -> None:
        done = [o for o in outcomes if isinstance(o, Done)]
        failed = [o for o in outcomes if isinstance(o, Failed)]
        async with self.pool.connection() as conn:
            if done:
                acked = await store.ack(conn, self.owner, [(o.delivery, o.ref, o.note) for o in done])
                self.stats["done"] += acked
                self.stats["lost_leases"] += len(done) - acked
            for f in failed:
                status = await store.fail(conn, self.owner, f.delivery, f.reason, permanent=f.permanent,
                                          retry_after=f.retry_after, mute=f.mute)
                self.stats["retried" if status == "pending" else status or "lost_leases"] += 1
                level = logging.WARNING if f.permanent or status == "dead" else \
                    logging.DEBUG if f.routine else logging.INFO
                log.log(level, "delivery %s to %s %s: %s", f.delivery.id, self.target, status, f.reason)
