"""The Discord listener under Discord's real limits (design.md §7): global and long global 429s, bucket
waits, the global limit, Cloudflare's HTML 429, a retry_after above a day, a deleted user."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import call
from tests.listener.conftest import (
    D1,
    G1,
    R2,
    R3,
    VIP,
    busiest_second,
    discord_handler,
    eventually,
    running,
    sandbox_with,
    settings,
    statuses,
)
from xpsync.sandbox import Fault, Window


def deliveries(conn) -> list[dict]:
    return conn.execute("SELECT status, attempts, last_error, extract(epoch FROM run_at - now()) AS due_in "
                        "FROM xp.deliveries WHERE target = 'discord' ORDER BY id").fetchall()


@pytest.mark.parametrize("retry_after", [3.0, 64.57])
async def test_a_global_429_never_wedges_the_listener(conn, pool, db_url, community, retry_after):
    """discord.py sleeps out a global 429 with its global lock taken; a timeout that cut that sleep short
    left the lock taken for ever. A short one is waited out uncut, a long one (over discord.py's
    max_ratelimit_timeout) reschedules the delivery at its retry_after, uncounted."""
    community.faults.script("discord", Fault("429-global", retry_after=retry_after))
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        if retry_after > 30:
            await eventually(lambda: deliveries(conn)[0]["status"] == "pending" and deliveries(conn)[0]["attempts"] == 0
                             and "429" in (deliveries(conn)[0]["last_error"] or ""), timeout=10)
            row = deliveries(conn)[0]
            assert 55 < row["due_in"] <= 65 and "global" in row["last_error"]
            # the minute passes (for the test: at once): Discord lets the bot in again, the delivery is due
            community.discord_api.global_until = 0
            conn.execute("UPDATE xp.deliveries SET run_at = now()")
            conn.execute("DELETE FROM xp.pace")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2}, timeout=retry_after + 10
                         if retry_after < 30 else 10)
        call(conn, "award_xp", "discord", D1, 500, "event", "k2")  # and the listener still works afterwards
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R3}, timeout=10)
        await eventually(lambda: statuses(conn, "discord") == {"done": 2})
    assert [r["attempts"] for r in deliveries(conn)] == [1, 1]  # a wait is never a failed attempt


async def test_bucket_waits_are_not_failed_attempts(conn, pool, db_url):
    """A realistic per-guild bucket for role edits (here 2 a second): a burst of rank-ups is paced to it,
    not queued inside discord.py until the call times out."""
    people = [str(300000000000000100 + i) for i in range(12)]
    settings(conn, discord__role_edits_per_second=1.8)
    async with sandbox_with(discord_role_edits=Window(2, 1.0)) as box:
        box.discord.add_guild(G1, [R2])
        conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (G1, R2))
        for member in people:
            box.discord.add_member(G1, member)
            call(conn, "award_xp", "discord", member, 300, "quiz", f"k{member}")
        async with running(pool, db_url, await discord_handler(box, pool)):
            await eventually(lambda: statuses(conn, "discord") == {"done": len(people)}, timeout=40)
        edits = [c.at for c in box.calls_to("discord", "PUT")]
    assert {r["attempts"] for r in deliveries(conn)} == {1}
    assert [c for c in box.calls_to("discord") if c.status == 429] == []
    assert busiest_second(edits) <= 2


async def test_the_global_limit_is_kept_with_no_429(conn, pool, db_url):
    """About 50 requests a second per bot in all: the listener stays under it across guilds."""
    guilds = [str(100000000000000100 + g) for g in range(3)]
    people = [str(300000000000000100 + i) for i in range(50)]
    settings(conn, discord__member_reads_per_second=1000, discord__role_edits_per_second=1000)
    async with sandbox_with(discord_member_reads=Window(1000, 1.0), discord_role_edits=Window(1000, 1.0)) as box:
        for guild in guilds:
            box.discord.open_guilds.add(guild)
            conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (guild, R2))
        for member in people:
            call(conn, "award_xp", "discord", member, 300, "quiz", f"k{member}")
        async with running(pool, db_url, await discord_handler(box, pool)):
            await eventually(lambda: statuses(conn, "discord") == {"done": len(people)}, timeout=40)
        calls = box.calls_to("discord")
    assert len(calls) >= 2 * len(people) * len(guilds)
    assert [c for c in calls if c.status == 429] == []
    assert busiest_second([c.at for c in calls]) <= 50


async def test_a_cloudflare_429_pauses_every_call(conn, pool, db_url, community):
    """An HTML 429 (Cloudflare, no JSON): every call waits its Retry-After, the delivery uncounted."""
    for n in range(2, 14):  # more member reads than one second of the guild's bucket allows
        member = str(300000000000000000 + n)
        community.discord.add_member(G1, member)
        call(conn, "award_xp", "discord", member, 300, "quiz", f"k{n}")
    community.faults.script("discord", Fault("429-html", retry_after=2))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: statuses(conn, "discord") == {"done": 12}, timeout=40)
    calls = community.calls_to("discord")
    refused = next(c for c in calls if c.status == 429)
    during = [c for c in calls if refused.at + 0.3 < c.at < refused.at + 1.9]
    assert during == []  # nothing was sent while Cloudflare said to wait
    assert {r["attempts"] for r in deliveries(conn)} == {1}


async def test_an_html_502_is_retried(conn, pool, db_url, community, caplog):
    community.faults.script("discord", "5xx-html")
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2}, timeout=20)
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_retry_after_above_a_day_is_a_day_and_crashes_nothing(conn, pool, db_url, community):
    community.faults.script("discord", Fault("429", retry_after=200_000))
    async with running(pool, db_url, await discord_handler(community, pool)) as listener:
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: deliveries(conn)[0]["attempts"] == 0 and deliveries(conn)[0]["last_error"], timeout=10)
        row = deliveries(conn)[0]
        assert row["status"] == "pending" and 86_000 < row["due_in"] <= 86_400
        community.discord.add_member(G1, "300000000000000002")
        call(conn, "award_xp", "discord", "300000000000000002", 300, "quiz", "k2")  # another guild call: waits too
        await asyncio.sleep(1)
    assert listener.stats["done"] == 0  # alive, and honouring the wait


async def test_a_deleted_user_is_done_not_failed(conn, pool, db_url, community):
    community.discord.deleted_users.add(D1)
    async with running(pool, db_url, await discord_handler(community, pool)):
        call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn, "discord") == {"done": 1})
    assert community.discord.role_changes == []
