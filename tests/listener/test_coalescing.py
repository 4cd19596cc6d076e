"""Coalescing (design.md §12): however many rank changes a person had while their deliveries waited, the
platform gets one member read and one role change per guild, and one notice per rank-up, under the
sandbox's real limits."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers import call
from tests.listener.conftest import (
    D1,
    FAST,
    G1,
    G2,
    R2,
    R3,
    R5,
    VIP,
    discord_handler,
    eventually,
    running,
    started,
    statuses,
    telegram_handler,
)
from xpsync.listener.runtime import Options

B2, B5 = "200000000000000202", "200000000000000205"  # G2's roles for ranks 2 and 5
T1 = "100"
RANK_UPS = 5


@pytest.fixture
def two_guilds(conn, sandbox):
    """G1 mirrors ranks 2, 3 and 5, G2 ranks 2 and 5; D1 (who also holds VIP in G1, a role xpsync does not
    manage) is in both, and is T1 on Telegram, who opened the chat with the bot."""
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s), (%s, 3, %s), (%s, 5, %s), (%s, 2, %s), (%s, 5, %s)",
                 (G1, R2, G1, R3, G1, R5, G2, B2, G2, B5))
    sandbox.discord.add_guild(G1, [R2, R3, R5, VIP])
    sandbox.discord.add_guild(G2, [B2, B5])
    sandbox.discord.add_member(G1, D1, [VIP])
    sandbox.discord.add_member(G2, D1)
    code = conn.execute("SELECT xp.create_link_code('telegram', %s) AS c", (T1,)).fetchone()["c"]
    conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (D1, code))
    started(conn, sandbox, T1)
    conn.execute("DELETE FROM xp.deliveries")  # start from a quiet outbox
    return sandbox


def rank_up(conn, to: int, key: str) -> None:
    """An award just big enough to reach rank `to`."""
    short = conn.execute("SELECT r.min_xp - coalesce(u.xp, 0) AS n FROM xp.ranks r LEFT JOIN xp.accounts a "
                         "ON a.platform = 'telegram' AND a.external_id = %s LEFT JOIN xp.users u ON u.id = a.user_id "
                         "WHERE r.id = %s", (T1, to)).fetchone()["n"]
    result = call(conn, "award_xp", "telegram", T1, short, "quiz", key)
    assert result["rank_changed"] and result["new_rank"] == to


def rank_ups_while_stopped(conn) -> None:
    """Five awards, each reaching the next rank (2 to 6), while no listener runs."""
    for n in range(RANK_UPS):
        rank_up(conn, n + 2, f"step-{n}")


def per_guild(box, *methods: str) -> Counter[str]:
    """Calls about D1 that reached the sandbox, counted by guild."""
    return Counter(c.path.split("/guilds/")[1].split("/")[0] for c in box.calls_to("discord")
                   if c.method in methods and f"/members/{D1}" in c.path)


ONE_BY_ONE = Options(batch_size=1, lease_seconds=5, poll_seconds=0.2, concurrency=16)
LIFTED = {"discord.requests_per_second": 0, "discord.member_reads_per_second": 0, "discord.role_edits_per_second": 0}


# one claim of 50 takes all of them; claims of one delivery each, 16 in flight, would split them (and, with
# no pace of our own to space the calls out, every part would read the member and edit the same role)
@pytest.mark.parametrize(("options", "pace"), [(FAST, {}), (ONE_BY_ONE, {}), (ONE_BY_ONE, LIFTED)],
                         ids=["one-claim", "claims-of-one", "claims-of-one-unpaced"])
async def test_five_rank_ups_while_stopped_reach_discord_as_one_change_per_guild(conn, pool, db_url, two_guilds,
                                                                               options, pace):
    for key, value in pace.items():
        conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (str(value), key))
    rank_ups_while_stopped(conn)
    waiting = statuses(conn, "discord")["pending"]  # the rank-ups, and an achievement on the way
    assert waiting >= RANK_UPS
    async with running(pool, db_url, await discord_handler(two_guilds, pool), options):
        await eventually(lambda: statuses(conn, "discord") == {"done": waiting}, timeout=20)
    assert two_guilds.discord.roles_of(G1, D1) == {VIP, R5} and two_guilds.discord.roles_of(G2, D1) == {B5}
    assert per_guild(two_guilds, "PUT", "DELETE") == {G1: 1, G2: 1}
    assert per_guild(two_guilds, "GET") == {G1: 1, G2: 1}
    assert [c for c in two_guilds.calls_to("discord") if c.status == 429] == []


async def test_five_rank_ups_while_stopped_are_five_notices_on_telegram(conn, pool, db_url, two_guilds):
    rank_ups_while_stopped(conn)
    ranks = conn.execute("SELECT count(*) AS n FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
                         "WHERE d.target = 'telegram' AND e.kind = 'rank_changed'").fetchone()["n"]
    assert ranks == RANK_UPS
    telegram = statuses(conn, "telegram")["pending"]
    async with running(pool, db_url, await telegram_handler(two_guilds, pool),
                       Options(batch_size=1, lease_seconds=5, poll_seconds=0.2, concurrency=16)):
        await eventually(lambda: statuses(conn, "telegram") == {"done": telegram}, timeout=20)
    assert len(two_guilds.telegram.sent_to(T1)) == telegram  # one message per notice, none coalesced away


async def test_a_change_after_the_claim_is_not_coalesced_away(conn, pool, db_url, two_guilds):
    """A rank-up committed while the person's earlier delivery is in flight gets its own convergence."""
    rank_up(conn, 2, "first")
    async with running(pool, db_url, await discord_handler(two_guilds, pool)):
        await eventually(lambda: two_guilds.discord.roles_of(G1, D1) == {VIP, R2})
        await eventually(lambda: set(statuses(conn, "discord")) == {"done"})
        rank_up(conn, 5, "second")
        await eventually(lambda: two_guilds.discord.roles_of(G1, D1) == {VIP, R5})
        await eventually(lambda: set(statuses(conn, "discord")) == {"done"})
    assert two_guilds.discord.roles_of(G2, D1) == {B5}
