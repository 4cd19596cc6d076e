"""What the demo shows of quests and the shop: the quests completed by themselves, and one purchase
approved by the demo's operator while the others wait for whoever opens /admin/shop."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from ..console import out
from .panel import OPERATOR

FIGURES = """
SELECT (SELECT count(*) FROM xp.quest_completions WHERE paid AND submission_id IS NULL) AS completed,
       (SELECT count(*) FROM xp.quest_submissions WHERE status = 'pending') AS submitted,
       (SELECT count(*) FROM xp.purchases WHERE status = 'approved') AS approved,
       (SELECT count(*) FROM xp.purchases WHERE status = 'pending') AS pending
"""


async def show(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        async with conn.transaction():
            await conn.execute("SELECT set_config('xp.actor', %s, true)", (OPERATOR,))
            await conn.execute("SELECT xp.review_purchase(p.id, true, 'approved by the demo') FROM "
                               "(SELECT id FROM xp.purchases WHERE status = 'pending' ORDER BY id LIMIT 1) p")
        cur = await conn.execute(FIGURES)
        row = await cur.fetchone()
    assert row is not None
    completed, submitted, approved, pending = row
    out.print(f"Quests: {completed} completed by themselves (time in voice), {submitted} submissions waiting "
              "for review (/admin/quests).")
    out.print(f"Shop: {approved} purchase(s) approved, {pending} waiting for an operator (/admin/shop): approve one "
              "there and watch the buyer's balance and the queue follow.")
