"""Each guild converges on its own (design.md §7): a guild that refuses never stops the others, its
refusals are recorded, and repeated refusals pause it (a circuit breaker) until an operator resumes it."""

from __future__ import annotations

import pytest

from tests.helpers import call, scalar
from tests.listener.conftest import D1, G1, G2, R2, VIP, discord_handler, eventually, running, settings, statuses

B2 = "200000000000000202"  # G2's role for rank 2


def refusing(how: str):
    def setup(box, conn):
        if how == "403 Missing Permissions":  # the bot's role sits below the rank role
            box.discord.forbidden_roles[G1] = {R2}
        elif how == "403 Missing Access":  # the bot was removed from the guild
            box.discord.left_guilds.add(G1)
        elif how == "404 Unknown Role":  # the mapped role was deleted
            box.discord.guild_roles[G1].discard(R2)
        elif how == "400 Invalid Form Body":  # a mapping typed by hand, not a snowflake
            conn.execute("UPDATE xp.rank_roles SET role_id = 'rank-' || rank_id WHERE guild_id = %s", (G1,))
    return setup


@pytest.fixture
def two_guilds(conn, community):
    """G1 (sorted first) and G2 both mirror rank 2."""
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (G2, B2))
    community.discord.add_guild(G2, [B2])
    community.discord.add_member(G2, D1)
    conn.execute("DELETE FROM xp.deliveries")
    return community


@pytest.mark.parametrize("how", ["403 Missing Permissions", "403 Missing Access", "404 Unknown Role",
                                 "400 Invalid Form Body"])
async def test_a_refusing_guild_never_blocks_the_others(conn, pool, db_url, two_guilds, how):
    refusing(how)(two_guilds, conn)
    conn.execute("DELETE FROM xp.deliveries")  # a mapping change queues a resync for everyone: not this test's
    async with running(pool, db_url, await discord_handler(two_guilds, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: two_guilds.discord.roles_of(G2, D1) == {B2})
        await eventually(lambda: statuses(conn, "discord") == {"failed": 1})
    error = scalar(conn, "SELECT last_error FROM xp.deliveries WHERE target = 'discord'")
    status, _, words = how.partition(" ")
    assert error.startswith(f"discord {status} in guild {G1}: ") and G2 not in error
    guild = scalar(conn, "SELECT xp.stats() -> 'guilds' -> %s", G1)
    assert guild["refusals"] == 1 and words.split()[0].lower() in guild["last_refusal"].lower()
    assert two_guilds.discord.roles_of(G1, D1) == {VIP}


async def test_repeated_refusals_pause_the_guild_until_it_is_resumed(conn, pool, db_url, two_guilds):
    settings(conn, discord__guild_pause_after=4)
    people = [str(300000000000000100 + i) for i in range(10)]
    two_guilds.discord.forbidden_roles[G1] = {R2}  # the bot's role below the rank roles: 403 for everyone
    for member in people:
        two_guilds.discord.add_member(G1, member)
        two_guilds.discord.add_member(G2, member)
        call(conn, "award_xp", "discord", member, 300, "quiz", f"k{member}")
    async with running(pool, db_url, await discord_handler(two_guilds, pool)):
        await eventually(lambda: "pending" not in statuses(conn, "discord"), timeout=30)
        assert all(two_guilds.discord.roles_of(G2, m) == {B2} for m in people)  # G2 converged regardless
        refused = [c for c in two_guilds.calls_to("discord") if c.status == 403]
        assert 4 <= len(refused) <= 4 + 2  # paused after 4 (and what was in flight): no storm
        paused = scalar(conn, "SELECT xp.stats() -> 'paused_guilds'")
        assert [g["guild_id"] for g in paused] == [G1] and "Missing Permissions" in paused[0]["reason"]

        # the operator moves the bot's role up, then resumes the guild: everyone is put right there
        two_guilds.discord.forbidden_roles[G1] = set()
        queued = scalar(conn, "SELECT xp.resume_guild(%s)", G1)
        assert queued == len(people) + 1  # everyone with a Discord account
        await eventually(lambda: all(R2 in two_guilds.discord.roles_of(G1, m) for m in people), timeout=40)
    assert scalar(conn, "SELECT xp.stats() -> 'paused_guilds'") == []
