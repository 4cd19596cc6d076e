"""The Discord listener against the sandbox's REST API, through discord.py's own HTTP client."""

from __future__ import annotations

import pytest

from tests.helpers import call
from tests.listener.conftest import D1, G1, G2, R2, R3, R5, VIP, discord_handler, eventually, running, statuses


async def test_a_rank_up_gives_the_rank_role_and_keeps_unmanaged_roles(conn, pool, db_url, community):
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2})
        call(conn, "award_xp", "discord", D1, 500, "event", "k2")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R3})
        await eventually(lambda: statuses(conn, "discord") == {"done": 2})
    reasons = {c.reason for c in community.discord.role_changes}
    assert reasons == {"xpsync: rank roles follow XP"}
    assert [(c.role_id, c.action) for c in community.discord.role_changes] == [
        (R2, "add"), (R3, "add"), (R2, "remove"),
    ]


async def test_stack_mode_keeps_every_rank_role_reached(conn, pool, db_url, community):
    conn.execute("INSERT INTO xp.guild_settings VALUES (%s, 'stack')", (G1,))
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 3000, "big", "k1")  # rank 5
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2, R3, R5})


async def test_a_demotion_takes_the_role_back(conn, pool, db_url, community):
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: R2 in community.discord.roles_of(G1, D1))
        call(conn, "award_xp", "telegram", "t1", -200, "penalty", "k2")  # 300 + 100 (first link) - 200 < 255
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP})


async def test_a_person_not_in_the_guild_is_done_without_calls(conn, pool, db_url, community):
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "discord", "300000000000000777", 300, "r", "k1")
        await eventually(lambda: statuses(conn, "discord") == {"done": 1})
    assert community.discord.role_changes == []


async def test_hand_made_drift_is_put_right_by_a_resync(conn, pool, db_url, community):
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2})
        community.discord.set_roles(G1, D1, [VIP, R5])  # a moderator's slip
        assert conn.execute("SELECT xp.request_resync('discord', %s) AS n", (D1,)).fetchone()["n"] == 1
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2})


async def test_transient_errors_are_retried_to_success(conn, pool, db_url, community, fast_retries):
    community.faults.script("discord", "5xx", "429", "5xx")
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2})
        await eventually(lambda: statuses(conn, "discord") == {"done": 1})
    assert community.faults.injected[("discord", "5xx")] == 2
    assert community.faults.injected[("discord", "429")] == 1
    # discord.py waits out a short 429 itself; the two 503s cost two attempts
    assert conn.execute("SELECT attempts FROM xp.deliveries WHERE target = 'discord'").fetchone()["attempts"] == 3


@pytest.mark.parametrize(("setup", "reason"), [
    (lambda box: box.discord.add_guild(G1, [R2, R3, R5, VIP], forbidden=[R2]),
     f"discord 403 in guild {G1}: Missing Permissions"),
    (lambda box: box.discord.add_guild(G1, [R3, R5, VIP]), f"discord 404 in guild {G1}: Unknown Role"),
])
async def test_permanent_errors_end_failed_with_the_reason(conn, pool, db_url, community, setup, reason):
    setup(community)
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn, "discord") == {"failed": 1})
    row = conn.execute("SELECT attempts, last_error FROM xp.deliveries WHERE target = 'discord'").fetchone()
    assert row == {"attempts": 1, "last_error": reason}


async def test_a_role_bought_in_the_shop_is_given_then_taken_back_when_its_days_end(conn, pool, db_url, community):
    from tests.clock import pass_days

    shop_role = "200000000000000901"
    community.discord.add_guild(G2, [shop_role, VIP])
    community.discord.add_member(G2, D1, [VIP])
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, guild_id, role_id, days, needs_approval) "
                 "VALUES ('vip', 'discord_role', '{\"en\": \"VIP\"}', 10, %s, %s, 3, false)", (G2, shop_role))
    call(conn, "award_coins", "discord", D1, 10, "gift", "g1")
    conn.execute("SELECT xp.buy('discord', %s, 'vip', 'r1')", (D1,))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: community.discord.roles_of(G2, D1) == {VIP, shop_role})
    pass_days(conn, 4)
    async with running(pool, db_url, await discord_handler(community, pool)):  # it polls: the role ended
        await eventually(lambda: community.discord.roles_of(G2, D1) == {VIP})
    assert conn.execute("SELECT expired_at IS NOT NULL AS ended FROM xp.purchases").fetchone()["ended"] is True
