"""Commit → call latency is measured by an observer the demo passes in, bounded, first attempts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xpsync.listener.handler import Delivery
from xpsync.listener.latency import FirstCallLatency


def delivery(attempts: int, age: float, delivery_id: int = 1) -> Delivery:
    return Delivery(delivery_id, 1, 1, "rank_changed", {}, attempts, None, datetime.now(UTC) - timedelta(seconds=age))


def test_first_attempts_only_and_never_more_than_it_keeps():
    observe = FirstCallLatency(keep=3)
    observe(delivery(2, 100))  # a retry measures the backoff, not the path: left out
    for age in (1, 2, 3, 4):
        observe(delivery(1, age, delivery_id=age))
    assert len(observe.seconds) == 3
    assert [round(s) for s in observe.seconds] == [2, 3, 4]  # the newest three


def test_each_delivery_counts_once_however_many_calls_or_claims_it_takes():
    observe = FirstCallLatency()
    for age in (1, 5, 9):  # a second call, or the same first attempt claimed again after a pace deferral
        observe(delivery(1, age, delivery_id=7))
    assert [round(s) for s in observe.seconds] == [1]
