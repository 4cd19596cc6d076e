"""Commit → call latency is measured by an observer the demo passes in, bounded, first attempts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xpsync.listener.handler import Delivery
from xpsync.listener.latency import FirstCallLatency


def delivery(attempts: int, age: float) -> Delivery:
    return Delivery(1, 1, 1, "rank_changed", {}, attempts, None, datetime.now(UTC) - timedelta(seconds=age))


def test_first_attempts_only_and_never_more_than_it_keeps():
    observe = FirstCallLatency(keep=3)
    observe(delivery(2, 100))  # a retry measures the backoff, not the path: left out
    for age in (1, 2, 3, 4):
        observe(delivery(1, age))
    assert len(observe.seconds) == 3
    assert [round(s) for s in observe.seconds] == [2, 3, 4]  # the newest three
