"""The demo's community: people on Telegram, on Discord or both, a guild with rank roles."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool

from ..db import first
from ..sandbox import Sandbox

GUILD = "900000000000000001"
MEMBER_ROLE = "role-member"  # a role xpsync does not manage: it must survive everything
# the first rank of each tier (and F II) gets a Discord role
RANK_ROLES = {2: "role-f", 4: "role-e", 7: "role-d", 10: "role-c", 13: "role-b", 16: "role-a", 19: "role-s"}
NAMES = ("Ivan", "Anna", "Mark", "Olga", "Lena", "Pavel", "Sara", "Tom", "Nika", "Yuri", "Mia", "Leo", "Zoe", "Max")


@dataclass
class Member:
    name: str
    telegram: str | None
    discord: str | None

    @property
    def accounts(self) -> list[tuple[str, str]]:
        return [(p, i) for p, i in (("telegram", self.telegram), ("discord", self.discord)) if i is not None]


@dataclass
class Community:
    members: list[Member]
    # members with both accounts, not yet linked: each side earns on its own until the link merges them
    to_link: list[Member] = field(default_factory=list)

    @property
    def accounts(self) -> list[tuple[str, str]]:
        return [a for m in self.members for a in m.accounts]


def people(count: int, rng: random.Random) -> Community:
    """30% Telegram only, 30% Discord only, 40% both (half of them link during the demo)."""
    members = []
    for i in range(count):
        kind = i % 10
        telegram = str(5_000_000 + i) if kind < 7 else None
        discord = str(700_000_000_000_000_000 + i) if kind >= 3 else None
        members.append(Member(f"{rng.choice(NAMES)}{i}", telegram, discord))
    both = [m for m in members if m.telegram and m.discord]
    return Community(members, to_link=both[: len(both) // 2])


# a quest that completes by itself and one members submit; a shop whose items wait for an operator
ECONOMY = """
INSERT INTO xp.quests (code, title, description, proof, target, period, reward_xp, reward_coins) VALUES
    ('on-air', '{"en": "On air", "ru": "В эфире"}', '{"en": "10 minutes in voice today"}', 'voice_minutes', 10,
     'day', 30, 10),
    ('screenshot', '{"en": "Share a screenshot", "ru": "Поделитесь скриншотом"}', '{}', 'submission', 1, 'once',
     100, 25);
INSERT INTO xp.shop_items (code, kind, title, price, stock) VALUES
    ('sticker', 'custom', '{"en": "Sticker pack", "ru": "Стикеры"}', 25, NULL),
    ('hoodie', 'custom', '{"en": "Hoodie", "ru": "Худи"}', 60, 10),
    ('title', 'telegram_title', '{"en": "A title in the group", "ru": "Звание в группе"}', 10, 5);
"""


async def seed(pool: AsyncConnectionPool, sandbox: Sandbox, community: Community, rng: random.Random) -> None:
    """The guild, its rank roles, and everyone's first steps (starting XP spreads them over the ranks)."""
    sandbox.discord.add_guild(GUILD, [MEMBER_ROLE, *RANK_ROLES.values()])
    async with pool.connection() as conn:
        await conn.execute("SET synchronous_commit = off")
        for rank, role in RANK_ROLES.items():
            await conn.execute("INSERT INTO xp.rank_roles VALUES (%s, %s, %s)", (GUILD, rank, role))
        await conn.execute(ECONOMY)
        # people already linked before the demo starts: one person each
        linked = [m for m in community.members if m.telegram and m.discord and m not in community.to_link]
        for member in linked:
            cur = await conn.execute("SELECT xp.create_link_code('telegram', %s)", (member.telegram,))
            code = first(await cur.fetchone())
            await conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (member.discord, code))
        for member in community.members:
            if member.discord:
                sandbox.discord.add_member(GUILD, member.discord, [MEMBER_ROLE])
            for platform, external_id in member.accounts:
                start = int(rng.paretovariate(1.2) * 120)
                await conn.execute(
                    "SELECT xp.award_xp(%s, %s, %s, 'welcome back', %s, %s)",
                    (platform, external_id, min(start, 60_000), f"seed:{platform}:{external_id}", member.name),
                )
