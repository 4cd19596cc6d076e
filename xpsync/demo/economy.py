"""What the demo shows of quests and the shop: the quests completed by themselves, and purchases of
the shop's Discord role: one approved by the demo's operator while the listeners run (the role
arrives on Discord), one left waiting, with the members' other purchases, for whoever opens
/admin/shop."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from ..console import out
from ..db import first
from ..sandbox import Sandbox
from .community import GUILDS, SHOP_ROLE, Community, Member, shop_role
from .panel import OPERATOR

FIGURES = """
SELECT (SELECT count(*) FROM xp.quest_completions WHERE paid AND submission_id IS NULL) AS completed,
       (SELECT count(*) FROM xp.quest_submissions WHERE status = 'pending') AS submitted,
       (SELECT count(*) FROM xp.purchases WHERE status = 'approved') AS approved,
       (SELECT count(*) FROM xp.purchases WHERE status = 'pending') AS pending,
       (SELECT count(*) FROM xp.purchases WHERE kind = 'discord_role' AND status = 'pending') AS roles_pending
"""


@dataclass
class RoleSale:
    approved: Member  # bought the role, approved by the demo's operator
    waiting: Member | None  # bought it too: waits for the newcomer on /admin/shop


def buyers(community: Community) -> list[Member]:
    """Discord members of the guild whose role is sold who keep their one person all demo long."""
    return [m for m in community.members if m.discord and m.guild == GUILDS[0] and m not in community.to_link]


async def sell_role(pool: AsyncConnectionPool, community: Community) -> RoleSale | None:
    """Two members buy the shop's role (with pocket money when short of its price); the first
    purchase is approved at once, the second waits. None when the community has nobody to sell to."""
    chosen = buyers(community)[:2]
    if not chosen:
        return None
    async with pool.connection() as conn:
        price = first(await (await conn.execute("SELECT price FROM xp.shop_items WHERE code = %s",
                                                (SHOP_ROLE,))).fetchone())
        purchases = []
        for member in chosen:
            await conn.execute("SELECT xp.award_coins('discord', %s, %s, 'demo: pocket money', %s)",
                               (member.discord, price, f"demo:pocket:{member.discord}"))
            cur = await conn.execute("SELECT (xp.buy('discord', %s, %s, %s) ->> 'purchase_id')::bigint",
                                     (member.discord, SHOP_ROLE, f"demo:{SHOP_ROLE}:{member.discord}"))
            purchases.append(first(await cur.fetchone()))
        async with conn.transaction():
            await conn.execute("SELECT set_config('xp.actor', %s, true)", (OPERATOR,))
            await conn.execute("SELECT xp.review_purchase(%s, true, 'approved by the demo')", (purchases[0],))
    return RoleSale(chosen[0], chosen[1] if len(chosen) > 1 else None)


async def show(pool: AsyncConnectionPool, sandbox: Sandbox, sale: RoleSale | None) -> None:
    async with pool.connection() as conn:
        cur = await conn.execute(FIGURES)
        row = await cur.fetchone()
    assert row is not None
    completed, submitted, approved, pending, roles_pending = row
    out.print(f"Quests: {completed} completed by themselves (time in voice), {submitted} submissions waiting "
              "for review (/admin/quests).")
    out.print(f"Shop: {approved} purchase(s) approved, {pending} waiting for an operator (/admin/shop): approve one "
              "there and watch the buyer's balance and the queue follow.")
    if sale is not None:
        assert sale.approved.discord is not None
        held = shop_role(GUILDS[0]) in sandbox.discord.roles_of(GUILDS[0], sale.approved.discord)
        out.print(f"Shop role: {sale.approved.name}'s VIP role was approved by the demo and "
                  f"{'given on Discord' if held else 'NOT given on Discord'}; {roles_pending} purchase(s) of it "
                  "wait on /admin/shop: approve one while the demo runs and watch the role arrive "
                  "(\"role given\") on the buyer's page.")
