"""What a handler gets (a claimed delivery) and how it says a delivery did not go through."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    sent_ref: str | None
    created_at: datetime


def first_call_latency(delivery: Delivery, latencies: list[float]) -> None:
    """Record commit → platform-call seconds for a first attempt (retries would measure backoff)."""
    if delivery.attempts == 1:
        latencies.append(time.time() - delivery.created_at.timestamp())


class Retry(Exception):
    """A transient failure: try again later (at `retry_after` seconds for a 429, uncounted)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Permanent(Exception):
    """A failure that retrying cannot fix; `mute` also turns the person's notices off."""

    def __init__(self, reason: str, *, mute: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mute = mute
