"""Eligible voice time per member, from voice-state snapshots (no discord.py types: easy to reason about).

Eligible (design.md §2): not self/server muted or deafened, not alone (bots do not
count), not in the guild's AFK channel. A session runs from joining a guild's
voice to leaving it (moving between channels keeps it); its id carries its
start, so a restarted bot opens new sessions instead of re-counting old ones.

While the gateway is away nothing counts: nobody can tell who stayed. When it
is back, the fresh snapshot ends (and pays up to the loss) every session whose
member is no longer in voice, and eligibility starts again from what it shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Voice:
    member_id: str
    bot: bool = False
    muted: bool = False  # self or server mute or deafen


@dataclass
class Session:
    session_id: str
    channel_id: str
    seconds: float = 0.0
    since: float | None = None  # eligible since (monotonic), None while not eligible
    reported: int = 0

    def total(self, now: float) -> float:
        return self.seconds + (now - self.since if self.since is not None else 0.0)

    def stop(self, now: float) -> None:
        """Eligible time stops counting at `now` (until the next snapshot says otherwise)."""
        if self.since is not None:
            self.seconds += now - self.since
            self.since = None


@dataclass
class VoiceTracker:
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sessions: dict[tuple[str, str], Session] = field(default_factory=dict)

    def channel(self, guild_id: str, channel_id: str, members: list[Voice], *, afk: bool) -> None:
        """The members now in a channel; eligibility of each is recomputed."""
        now = self.clock()
        humans = [m for m in members if not m.bot]
        for m in humans:
            key = (guild_id, m.member_id)
            s = self.sessions.get(key)
            if s is None:
                s = self.sessions[key] = Session(f"{guild_id}:{m.member_id}:{int(self.wall() * 1000)}", channel_id)
            s.channel_id = channel_id
            eligible = not m.muted and not afk and len(humans) > 1
            if eligible and s.since is None:
                s.since = now
            elif not eligible:
                s.stop(now)

    def leave(self, guild_id: str, member_id: str) -> Session | None:
        """The member left voice in this guild: their session ends (returned for its last report)."""
        s = self.sessions.pop((guild_id, member_id), None)
        if s is not None:
            s.stop(self.clock())
        return s

    def suspend(self) -> None:
        """The gateway is gone: every session stops counting now (events are no longer seen)."""
        now = self.clock()
        for s in self.sessions.values():
            s.stop(now)

    def resume(self, present: set[tuple[str, str]]) -> list[tuple[str, Session]]:
        """A fresh snapshot after (re)connecting: (guild_id, member_id) of every human in voice now.

        Every other session ends, paid up to the moment the gateway was lost (or up
        to now, if no loss was seen); returned as (member_id, session) for their last
        report. Feed the snapshot's channels to channel() afterwards.
        """
        now = self.clock()
        ended = []
        for key in [k for k in self.sessions if k not in present]:
            s = self.sessions.pop(key)
            s.stop(now)
            ended.append((key[1], s))
        return ended

    def due(self) -> list[tuple[str, Session, int]]:
        """(member_id, session, eligible seconds) for sessions with unreported whole seconds."""
        now = self.clock()
        out = []
        for (_, member_id), s in self.sessions.items():
            seconds = int(s.total(now))
            if seconds > s.reported:
                out.append((member_id, s, seconds))
        return out
