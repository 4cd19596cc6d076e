"""The seam between the listener loop and a platform: the Handler protocol, what a handler is given
(a claimed Delivery), and how it says a delivery did not go through (Retry, Permanent)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import psycopg

Facts = TypeVar("Facts")
LEASE_MARGIN = 1.0  # seconds of a lease kept for recording the outcome
SHORTEST_CALL = 0.5  # a platform call is not started with less of the lease left than this


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
    # when this process's claim ends (event-loop time): a platform call must be over, and the outcome
    # recorded, before then, or another instance may claim the delivery again
    lease_ends: float = math.inf

    def time_left(self) -> float:
        """Seconds of the lease left for platform calls, the margin for recording the outcome kept."""
        return self.lease_ends - asyncio.get_running_loop().time() - LEASE_MARGIN


@dataclass(frozen=True)
class Unsent:
    """handle()'s answer for a delivery that is done but reached nobody (e.g. a person the bot may not
    write to): why, kept with the ack."""

    note: str


# Told about a delivery just before its first platform call (the demo measures commit → call with it).
CallObserver = Callable[[Delivery], None]


class Handler(Protocol[Facts]):
    """Every method the listener loop and `xpsync listen` call, in the order they call them."""

    target: str  # the delivery target it serves (xpsync.vocabulary.TARGETS)

    async def start(self) -> None:
        """Log in to the platform; a rejected token is a ConfigError naming the variable."""

    def configure(self, settings: dict[str, Any]) -> None:
        """Take up live settings (xp.settings), at start and whenever they change."""

    async def lookup(self, conn: psycopg.AsyncConnection[Any], people: list[int]) -> Mapping[int, Facts]:
        """What handle() needs to know about the people of a claimed batch, read in one query."""

    async def handle(self, delivery: Delivery, facts: Facts | None) -> str | Unsent | None:
        """Make the platform reflect the delivery, given the lookup's facts about its person (None when
        nothing was found), within the delivery's lease; return a reference to store (a message id), None,
        or Unsent saying why nobody could be told. A token the platform rejects is a ConfigError (the
        listener stops); Retry and Permanent say the delivery did not go through."""

    async def close(self) -> None:
        """Close the platform client."""


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
