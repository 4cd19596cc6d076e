"""Simulated members doing what bots report: messages, voice, dailies, games, shopping (the shop's items,
which wait for an operator), quest submissions, links."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from ..db import first
from .community import Community, Member

Connection = psycopg.AsyncConnection[Any]

# what a member does next, and how often
ACTIONS = (("message", 50), ("voice", 15), ("game", 15), ("daily", 8), ("shop", 7), ("link", 5), ("submit", 2))


class Activity:
    def __init__(self, pool: AsyncConnectionPool, community: Community, rng: random.Random) -> None:
        self.pool = pool
        self.community = community
        self.rng = rng
        self.counts: Counter[str] = Counter()
        self.applied = 0
        self._step = 0

    async def run(self, seconds: float, workers: int = 8) -> float:
        """Keep `workers` members busy for `seconds`; return the seconds actually spent."""
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(self._worker(deadline) for _ in range(workers)))
        return time.monotonic() - started

    async def _worker(self, deadline: float) -> None:
        names, weights = zip(*ACTIONS, strict=True)
        async with self.pool.connection() as conn:
            while time.monotonic() < deadline:
                action = self.rng.choices(names, weights)[0]
                member = self.rng.choice(self.community.members)
                self._step += 1
                try:
                    applied = await getattr(self, action)(conn, member, self._step)
                except psycopg.Error as exc:
                    if not (exc.sqlstate or "").startswith("XP"):
                        raise
                    self.counts[f"refused ({exc.sqlstate})"] += 1  # e.g. XP003: not enough coins
                    continue
                self.counts[action] += 1
                self.applied += int(bool(applied))

    async def _award(self, conn: Connection, query: str, params: tuple[Any, ...]) -> bool:
        cur = await conn.execute(query, params)
        return bool(first(await cur.fetchone()))

    def _account(self, member: Member) -> tuple[str, str]:
        return self.rng.choice(member.accounts)

    async def message(self, conn: Connection, member: Member, step: int) -> bool:
        platform, external_id = self._account(member)
        return await self._award(conn, "SELECT applied FROM xp.record_message(%s, %s, %s, %s, %s, %s)",
                                 (platform, external_id, member.chat(platform), str(step), self.rng.randint(1, 200),
                                  member.name))

    async def voice(self, conn: Connection, member: Member, step: int) -> bool:
        if member.discord is None:
            return await self.message(conn, member, step)
        session = f"vc-{member.discord}-{step // 50}"
        return await self._award(conn, "SELECT applied FROM xp.record_voice('discord', %s, %s, %s)",
                                 (member.discord, session, self.rng.randint(60, 1800)))

    async def game(self, conn: Connection, member: Member, step: int) -> bool:
        platform, external_id = self._account(member)
        prize = self.rng.choice((50, 20, 20, 35))  # guess-the-number win, quiz answers, a wheel spin
        return await self._award(conn, "SELECT applied FROM xp.award_xp(%s, %s, %s, 'game won', %s)",
                                 (platform, external_id, prize, f"game:{step}"))

    async def daily(self, conn: Connection, member: Member, step: int) -> bool:
        platform, external_id = self._account(member)
        return await self._award(conn, "SELECT applied FROM xp.claim_daily(%s, %s, %s)",
                                 (platform, external_id, member.name))

    async def shop(self, conn: Connection, member: Member, step: int) -> bool:
        platform, external_id = self._account(member)
        item = self.rng.choice(("sticker", "hoodie", "title"))
        return await self._award(conn, "SELECT (xp.buy(%s, %s, %s, %s) ->> 'applied')::boolean",
                                 (platform, external_id, item, f"demo:{step}"))

    async def submit(self, conn: Connection, member: Member, step: int) -> bool:
        platform, external_id = self._account(member)
        return await self._award(conn, "SELECT (xp.submit_quest(%s, %s, 'screenshot', %s) ->> 'applied')::boolean",
                                 (platform, external_id, f"https://example.org/shot-{step}.png"))

    async def link(self, conn: Connection, member: Member, step: int) -> bool:
        if not self.community.to_link:
            return await self.game(conn, member, step)
        pair = self.community.to_link.pop()
        cur = await conn.execute("SELECT xp.create_link_code('telegram', %s)", (pair.telegram,))
        code = first(await cur.fetchone())
        cur = await conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (pair.discord, code.lower()))
        person = first(await cur.fetchone())
        self.counts["merged"] += int(person is not None)
        return person is not None
