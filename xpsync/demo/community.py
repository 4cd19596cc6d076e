"""The demo's community: people on Telegram, on Discord or both, three Discord guilds with rank roles,
four Telegram groups (three lounges announce rank-ups, a quiet room does not), and a history before the
demo starts.

As on the real platforms, only some Telegram members ever pressed Start in a
private chat with the bot: the others can be told only in a group that
announces, where they talk. A group takes 20 messages a minute, so the
lounges share the announcements of a busy community.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool

from ..db import first
from ..sandbox import Sandbox

# Discord ids are snowflakes; each guild mirrors the first rank of each tier (and F II) with a role
GUILDS = ("900000000000000001", "900000000000000002", "900000000000000003")
RANKS_WITH_ROLES = (2, 4, 7, 10, 13, 16, 19)
CHANNEL = "800000000000000001"
# Telegram groups have negative ids: the lounges announce rank-ups, the quiet room does not
LOUNGES = ("-1001000000001", "-1001000000003", "-1001000000004")
QUIET = "-1001000000002"
STARTED_SHARE = 0.6  # Telegram members who opened a private chat with the bot
NAMES = ("Ivan", "Anna", "Mark", "Olga", "Lena", "Pavel", "Sara", "Tom", "Nika", "Yuri", "Mia", "Leo", "Zoe", "Max")


def member_role(guild: str) -> str:
    """A role xpsync does not manage: it must survive everything."""
    return f"91{guild[-1]}000000000000099"


def shop_role(guild: str) -> str:
    """The role the shop sells for a week in the first guild (SHOP_ROLE)."""
    return f"91{guild[-1]}000000000000088"


def rank_roles(guild: str) -> dict[int, str]:
    return {rank: f"91{guild[-1]}0000000000000{rank:02d}" for rank in RANKS_WITH_ROLES}


@dataclass
class Member:
    name: str
    telegram: str | None
    discord: str | None
    guild: str = GUILDS[0]  # the Discord guild they are in
    group: str = LOUNGES[0]  # the Telegram group they talk in
    started: bool = False  # pressed Start in a private chat with the bot

    @property
    def accounts(self) -> list[tuple[str, str]]:
        return [(p, i) for p, i in (("telegram", self.telegram), ("discord", self.discord)) if i is not None]

    def chat(self, platform: str) -> str:
        """Where their messages on a platform go."""
        return self.group if platform == "telegram" else CHANNEL


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
        members.append(Member(f"{rng.choice(NAMES)}{i}", telegram, discord, guild=GUILDS[i % len(GUILDS)],
                              group=rng.choice((*LOUNGES, QUIET)),
                              started=telegram is not None and rng.random() < STARTED_SHARE))
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
# a Discord role the shop sells for a week in the first guild: approving a purchase gives it on Discord
SHOP_ROLE = "vip"
SHOP_ROLE_ITEM = """
INSERT INTO xp.shop_items (code, kind, title, price, guild_id, role_id, days)
VALUES (%s, 'discord_role', '{"en": "VIP role for a week", "ru": "Роль VIP на неделю"}', 40, %s, %s, 7)
"""


async def seed(pool: AsyncConnectionPool, sandbox: Sandbox, community: Community, rng: random.Random) -> int:
    """The guilds and their rank roles, the groups, and everyone's history: starting XP spreads them over
    the ranks, and what that history asked of the platforms was done before the demo begins (the guilds'
    roles are as the database says, those notices were sent). Returns the last delivery of that history."""
    async with pool.connection() as conn:
        await conn.execute("SET synchronous_commit = off")
        for guild in GUILDS:
            sold = [shop_role(guild)] if guild == GUILDS[0] else []
            sandbox.discord.add_guild(guild, [member_role(guild), *rank_roles(guild).values(), *sold])
            for rank, role in rank_roles(guild).items():
                await conn.execute("INSERT INTO xp.rank_roles VALUES (%s, %s, %s)", (guild, rank, role))
        for chat, announce in (*((lounge, True) for lounge in LOUNGES), (QUIET, False)):
            await conn.execute("INSERT INTO xp.chat_settings (platform, chat_id, announce) VALUES ('telegram', %s, %s)",
                               (chat, announce))
        await conn.execute(ECONOMY)
        await conn.execute(SHOP_ROLE_ITEM, (SHOP_ROLE, GUILDS[0], shop_role(GUILDS[0])))
        # people already linked before the demo starts: one person each
        linked = [m for m in community.members if m.telegram and m.discord and m not in community.to_link]
        for member in linked:
            cur = await conn.execute("SELECT xp.create_link_code('telegram', %s)", (member.telegram,))
            code = first(await cur.fetchone())
            await conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (member.discord, code))
        for member in community.members:
            if member.started:
                assert member.telegram is not None
                await conn.execute("SELECT xp.chat_opened('telegram', %s)", (member.telegram,))
                sandbox.telegram.open_chat(member.telegram)
            if member.telegram:  # where they talk: a message the bot counted once
                await conn.execute("SELECT xp.record_message('telegram', %s, %s, %s, 40, %s)",
                                   (member.telegram, member.group, f"seed-{member.telegram}", member.name))
            for platform, external_id in member.accounts:
                start = int(rng.paretovariate(1.2) * 120)
                await conn.execute(
                    "SELECT xp.award_xp(%s, %s, %s, 'welcome back', %s, %s)",
                    (platform, external_id, min(start, 60_000), f"seed:{platform}:{external_id}", member.name),
                )
        for member in community.members:
            if member.discord:
                cur = await conn.execute(
                    "SELECT p.desired FROM xp.accounts a, xp.discord_role_plan(a.user_id) p "
                    "WHERE a.platform = 'discord' AND a.external_id = %s AND p.guild_id = %s",
                    (member.discord, member.guild))
                desired = first(await cur.fetchone())
                sandbox.discord.add_member(member.guild, member.discord, [member_role(member.guild), *desired])
        # the history's deliveries were delivered then: acked through the delivery functions
        while True:
            cur = await conn.execute(
                "SELECT array_agg(c.id), array_agg(c.attempts) FROM (VALUES ('discord'), ('telegram')) AS t (target), "
                "xp.claim_deliveries(t.target, 'history', 10000, 60) AS c")
            ids, attempts = await cur.fetchone() or (None, None)
            if not ids:
                cur = await conn.execute("SELECT coalesce(max(id), 0) FROM xp.deliveries")
                return int(first(await cur.fetchone()))
            await conn.execute("SELECT xp.ack_deliveries('history', %s, %s)", (ids, attempts))
