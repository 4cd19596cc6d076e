"""Capped exponential backoff with jitter, and a sleep that a stop event cuts short."""

from __future__ import annotations

import asyncio
import contextlib
import random


class Backoff:
    def __init__(self, base: float = 0.1, cap: float = 10.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempt) * (0.5 + random.random() / 2)  # noqa: S311
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    """Sleep up to `seconds`, returning early once `event` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
