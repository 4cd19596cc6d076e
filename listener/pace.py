"""Pacing shared by every instance of a listener: call slots reserved in the database.

A limit is a key and a gap: at most one call per `gap` seconds under that key
(a platform as a whole, a Discord guild's bucket, a Telegram chat), after a
burst of up to `burst` at once where the platform allows bursts. A call
under several limits waits for the first moment all of them allow, and takes
it in the same statement (xp.reserve_slot), so that instances on any number of
machines together never go faster than the limits, and a 429 pauses every
instance (xp.pause_pace), slots taken before the pause included (a caller
that slept until its slot asks first). A slot is only taken when it comes
soon enough for the call to finish inside the delivery's lease; otherwise the
delivery is deferred to that moment, uncounted, for whoever claims it then.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from . import store
from .handler import Retry

MAX_WAIT = 86_400.0  # the longest wait any platform may ask for that we honour: a day


@dataclass(frozen=True)
class Limit:
    key: str
    gap: float  # seconds between two calls under this limit (0: no limit, but pauses still hold)
    burst: int = 1  # calls that may go at once before the gap holds (a token bucket's size)


def number(value: Any, default: float) -> float:
    """A setting's number (a JSON value); `default` when it is none."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def gap(per_second: Any, default: float) -> float:
    """Seconds between calls for a rate read from a setting (0 or less: no limit)."""
    rate = number(per_second, default)
    return 1.0 / rate if rate > 0 else 0.0


def bounded(seconds: float | None) -> float:
    """A wait a platform asked for, as we honour it: between 0 and a day (NaN: none)."""
    if seconds is None or not seconds >= 0:
        return 0.0
    return min(float(seconds), MAX_WAIT)


class Deferred(Retry):
    """No slot inside the lease: the delivery is due again when the slot comes, the attempt uncounted."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"paced: the next slot is {wait:.1f}s away, after this claim's lease", retry_after=wait)


class Pace:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def slot(self, limits: Sequence[Limit], *, within: float) -> None:
        """Wait for a slot under every limit; Deferred when it lies more than `within` seconds away.
        Limits that all have gap 0 (pacing lifted, for benchmarks) cost no database round trip, and
        then no pause is consulted either."""
        if not any(limit.gap > 0 for limit in limits):
            return
        if within <= 0:
            raise Deferred(0.0)
        keys = [x.key for x in limits]
        async with self.pool.connection() as conn:
            wait, reserved = await store.reserve_slot(conn, keys, [x.gap for x in limits], [x.burst for x in limits],
                                                      min(within, MAX_WAIT))
        if not reserved:
            raise Deferred(bounded(wait))
        if wait > 0:
            await asyncio.sleep(wait)
            async with self.pool.connection() as conn:
                held = await store.pace_held(conn, keys)  # a 429 meanwhile voids the slot
            if held > 0:
                raise Deferred(held)

    async def pause(self, keys: Sequence[str], seconds: float) -> None:
        """Nothing under these limits for `seconds` (bounded to a day), for every instance."""
        async with self.pool.connection() as conn:
            await store.pause_pace(conn, list(keys), bounded(seconds))
