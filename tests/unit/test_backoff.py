"""Capped exponential backoff with jitter, and a sleep that an event cuts short."""

from __future__ import annotations

import asyncio
import random

from xpsync.listener.backoff import Backoff, sleep_unless


def test_delays_double_up_to_the_cap_with_jitter_of_at_most_half(monkeypatch):
    backoff = Backoff(base=0.1, cap=1.0)
    monkeypatch.setattr(random, "random", lambda: 1.0)  # the top of the jitter: no reduction
    assert [round(backoff.next(), 6) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    monkeypatch.setattr(random, "random", lambda: 0.0)  # the bottom: half the delay
    assert [round(backoff.next(), 6) for _ in range(3)] == [0.05, 0.1, 0.2]


def test_real_jitter_stays_between_half_and_the_whole_delay():
    backoff = Backoff(base=1.0, cap=8.0)
    for attempt in range(20):
        ceiling = min(8.0, 2.0**attempt)
        assert ceiling / 2 <= backoff.next() <= ceiling


async def test_sleep_unless_returns_as_soon_as_the_event_is_set():
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, event.set)
    await asyncio.wait_for(sleep_unless(event, 60), timeout=5)  # would take a minute otherwise
    assert event.is_set()


async def test_sleep_unless_sleeps_out_its_time_when_nothing_happens():
    event = asyncio.Event()
    await sleep_unless(event, 0.01)
    assert not event.is_set()
