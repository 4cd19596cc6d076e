"""Switchable faults for the sandbox: scripted (in order) or random (seeded).

Kinds: `429` (a rate limit on the route, JSON with `retry_after`), `429-global`
(Discord's global limit: every request of the bot is refused for `retry_after`
seconds), `429-html` (Cloudflare's HTML 429, no JSON, a `Retry-After` header),
`5xx` (a JSON 503 from Discord, a JSON 502 from Telegram), `5xx-html` (an HTML
502 from a proxy in front of the API), `403` (Discord: Missing Permissions;
Telegram: blocked by the user) and `slow` (the answer comes after `delay`).
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass

KINDS = ("429", "429-global", "429-html", "5xx", "5xx-html", "403", "slow")


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after: float = 0.05
    delay: float = 0.5


@dataclass
class _Random:
    rates: dict[str, float]
    rng: random.Random
    retry_after: float
    delay: float


class Faults:
    """What the next platform request should suffer, per platform ('discord', 'telegram')."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripted: dict[str, deque[Fault]] = {}
        self._random: dict[str, _Random] = {}
        self.injected: Counter[tuple[str, str]] = Counter()

    def script(self, platform: str, *faults: str | Fault) -> None:
        """The next requests to `platform` fail like this, one fault per request, in order."""
        with self._lock:
            queue = self._scripted.setdefault(platform, deque())
            queue.extend(f if isinstance(f, Fault) else Fault(_checked(f)) for f in faults)

    def randomize(
        self, platform: str, rates: dict[str, float], *, seed: int = 0, retry_after: float = 0.05, delay: float = 0.5
    ) -> None:
        """Each request to `platform` fails with kind k at rate rates[k] (the kinds above)."""
        for kind in rates:
            _checked(kind)
        with self._lock:
            self._random[platform] = _Random(dict(rates), random.Random(seed), retry_after, delay)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self._random.clear()

    def next(self, platform: str) -> Fault | None:
        with self._lock:
            queue = self._scripted.get(platform)
            fault = queue.popleft() if queue else None
            if fault is None and (chaos := self._random.get(platform)) is not None:
                roll = chaos.rng.random()
                for kind, rate in chaos.rates.items():
                    if roll < rate:
                        fault = Fault(kind, chaos.retry_after, chaos.delay)
                        break
                    roll -= rate
            if fault is not None:
                self.injected[(platform, fault.kind)] += 1
            return fault


def _checked(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}: expected one of {', '.join(KINDS)}")
    return kind
