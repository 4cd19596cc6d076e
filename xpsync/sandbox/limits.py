"""The platforms' limits as the sandbox enforces them: the knobs, and the two counters they need.

Discord counts requests in fixed windows (a bucket opens with the first request
and resets `seconds` later, as its `X-RateLimit-Reset-After` says); Telegram's
documented limits are rates that tolerate short bursts, which a token bucket
models. `Limits()` is what the platforms do today (the default of `Sandbox()`,
the tests and the demo); `Limits.lifted()` removes every rate limit for the
throughput benchmark, keeping the refusals (bad tokens, snowflakes, unopened
chats) that are not about speed.

| knob | realistic | meaning |
|---|---|---|
| `discord_global` | 50 per 1 s | every request of the bot, any route (interaction callbacks excepted) |
| `discord_member_reads` | 5 per 1 s | `GET /guilds/{g}/members/{m}`, per guild |
| `discord_role_edits` | 10 per 10 s | `PUT` and `DELETE /guilds/{g}/members/{m}/roles/{r}`, one bucket per guild |
| `discord_channel_messages` | 5 per 5 s | `POST /channels/{c}/messages`, per channel (a direct message's too) |
| `discord_invalid` | 10 000 per 600 s | 401, 403 and 429 answers before the IP is banned (Cloudflare) |
| `discord_ban_seconds` | 3 600 | how long such a ban lasts: every request gets an HTML 429 |
| `interaction_deadline` | 3 s | an interaction not answered by then is Unknown interaction (10062) |
| `telegram_global` | 30 a second, bursts of 30 | every sendMessage of the bot |
| `telegram_private` | 1 a second, bursts of 10 | per private chat (a person talking to the bot gets quick answers) |
| `telegram_group` | 20 a minute, bursts of 20 | per group chat (negative chat id) |
| `telegram_requires_start` | on | a private chat that never sent /start is refused (403) |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Window:
    """`limit` requests per fixed window of `seconds` (a Discord bucket)."""

    limit: int
    seconds: float


@dataclass(frozen=True)
class Rate:
    """`count` per `seconds` on average, with bursts of up to `burst` (a token bucket)."""

    count: float
    seconds: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True)
class Limits:
    discord_global: Window | None = Window(50, 1.0)
    discord_member_reads: Window = Window(5, 1.0)
    discord_role_edits: Window = Window(10, 10.0)
    discord_channel_messages: Window = Window(5, 5.0)
    discord_invalid: Window | None = Window(10_000, 600.0)
    discord_ban_seconds: float = 3600.0
    interaction_deadline: float | None = 3.0
    telegram_global: Rate | None = Rate(30, 1.0, 30)
    telegram_private: Rate | None = Rate(1, 1.0, 10)
    telegram_group: Rate | None = Rate(20, 60.0, 20)
    telegram_requires_start: bool = True

    @classmethod
    def lifted(cls, **changes: object) -> Limits:
        """No rate limit anywhere (buckets so large that nothing waits); refusals stay as they are."""
        huge = Window(1_000_000, 1.0)
        return replace(cls(discord_global=None, discord_member_reads=huge, discord_role_edits=huge,
                           discord_channel_messages=huge, discord_invalid=None, telegram_global=None,
                           telegram_private=None, telegram_group=None),
                       **changes)  # type: ignore[arg-type]


@dataclass
class _Open:
    start: float
    count: int = 0


@dataclass
class FixedWindows:
    """Per-key fixed windows: `take` answers (allowed, remaining, seconds until the window resets)."""

    window: Window
    _open: dict[str, _Open] = field(default_factory=dict)

    def take(self, key: str, now: float) -> tuple[bool, int, float]:
        current = self._open.get(key)
        if current is None or now >= current.start + self.window.seconds:
            current = self._open[key] = _Open(now)
            if len(self._open) > 100_000:
                self._open = {k: w for k, w in self._open.items() if now < w.start + self.window.seconds}
                self._open[key] = current
        reset_after = current.start + self.window.seconds - now
        if current.count >= self.window.limit:
            return False, 0, reset_after
        current.count += 1
        return True, self.window.limit - current.count, reset_after

    def reset_at(self, key: str) -> float | None:
        current = self._open.get(key)
        return None if current is None else current.start + self.window.seconds


@dataclass
class TokenBuckets:
    """Per-key token buckets refilled at `rate`; `wait` is 0 when a token is there, else the seconds
    until one is, and `take` spends it."""

    rate: Rate
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._tokens.get(key, (float(self.rate.burst), now))
        return min(float(self.rate.burst), tokens + (now - at) * self.rate.per_second)

    def wait(self, key: str, now: float) -> float:
        level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) / self.rate.per_second

    def take(self, key: str, now: float) -> None:
        self._tokens[key] = (self._level(key, now) - 1, now)
        if len(self._tokens) > 100_000:
            self._tokens = {k: v for k, v in self._tokens.items() if self._level(k, now) < self.rate.burst}


def whole_seconds(seconds: float) -> int:
    """A wait as Telegram and the Retry-After header state it: whole seconds, at least one."""
    return max(1, math.ceil(seconds))
