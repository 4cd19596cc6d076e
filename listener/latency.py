"""Commit → platform-call latency, measured by whoever wants it (the demo, a benchmark), bounded.

A production listener measures nothing: its handlers take an optional
CallObserver, and this is one.
"""

from __future__ import annotations

import time
from collections import deque

from .handler import Delivery


class FirstCallLatency:
    """Seconds from a delivery's commit to its first platform call, for first attempts only (a retry
    would measure the backoff; a wait for a pace slot is part of the path and is measured), once per
    delivery, keeping the newest `keep` of them."""

    def __init__(self, keep: int = 100_000) -> None:
        self.samples: deque[float] = deque(maxlen=keep)
        self._seen: deque[int] = deque(maxlen=keep)
        self._seen_ids: set[int] = set()

    def __call__(self, delivery: Delivery) -> None:
        if delivery.attempts != 1 or delivery.id in self._seen_ids:
            return
        if len(self._seen) == self._seen.maxlen:
            self._seen_ids.discard(self._seen[0])
        self._seen.append(delivery.id)
        self._seen_ids.add(delivery.id)
        self.samples.append(time.time() - delivery.created_at.timestamp())

    @property
    def seconds(self) -> list[float]:
        return list(self.samples)
