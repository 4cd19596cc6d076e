"""Telegram send pacing: the overall rate and one message per chat per interval."""

from __future__ import annotations

import asyncio
import itertools
import time

from xpsync.listener.pace import Pacer


async def test_pacing_keeps_one_message_per_chat_per_interval():
    pacer = Pacer(per_second=1000, per_chat_seconds=0.2)
    sent: list[tuple[str, float]] = []

    async def send(chat):
        await pacer.wait(chat)
        sent.append((chat, time.monotonic()))

    await asyncio.gather(*(send(chat) for chat in ["a", "a", "a", "b", "b"]))
    for chat in "ab":
        times = [t for c, t in sent if c == chat]
        assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(times))
    assert len(sent) == 5


async def test_pacing_keeps_the_overall_rate():
    pacer = Pacer(per_second=50, per_chat_seconds=0)
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait(str(i)) for i in range(26)))
    assert time.monotonic() - started >= 0.49  # 26 sends at 50/s span at least 25 gaps of 20 ms


async def test_slots_follow_a_fake_clock_and_new_rates_apply_from_the_next_slot(monkeypatch):
    now = [100.0]
    pacer = Pacer(per_second=10, per_chat_seconds=1.0, clock=lambda: now[0])
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    await pacer.wait("a")  # at once
    await pacer.wait("b")  # the overall gap: 0.1 s later
    await pacer.wait("a")  # a's own interval: 1 s after its first
    pacer.configure(per_second=2, per_chat_seconds=0)
    await pacer.wait("c")  # 0.1 s after a's slot (the gap reserved before the change)
    await pacer.wait("d")  # then the new 0.5 s gap
    assert slept == [0.1, 1.0, 1.1, 1.6]  # seconds from the (frozen) clock's now
