"""A member who submitted a quest or bought an item on Discord hears of its review there, by direct
message: the real Discord listener (discord.py's HTTP client) against the sandbox, which answers as
Discord does (a channel opened, then a message sent to it; 50007 for a member who takes none)."""

from __future__ import annotations

from tests.helpers import as_bot, call, scalar
from tests.listener.conftest import D1, G1, busiest_second, discord_handler, eventually, running, statuses

SHOT = "INSERT INTO xp.quests (code, title, proof, target, period, reward_xp, reward_coins) " \
       "VALUES ('shot', '{\"en\": \"Share a screenshot\", \"ru\": \"Скриншот\"}', 'submission', 1, 'once', 100, 25)"
HOODIE = "INSERT INTO xp.shop_items (code, kind, title, price, stock) " \
         "VALUES ('hoodie', 'custom', '{\"en\": \"Hoodie\", \"ru\": \"Худи\"}', 100, 10)"


def bought(conn, key: str) -> int:
    """D1 buys a hoodie from the Discord bot; the purchase's id."""
    return int(as_bot(conn, "buy", "discord", D1, "hoodie", key)["buy"]["purchase_id"])


def review_deliveries(conn):
    return conn.execute("SELECT d.target, d.status, d.sent_ref, d.last_error AS note FROM xp.deliveries d "
                        "JOIN xp.events e ON e.id = d.event_id WHERE e.kind LIKE '%%_reviewed' "
                        "ORDER BY d.id").fetchall()


async def test_reviews_of_what_a_member_did_on_discord_come_by_direct_message(conn, pool, db_url, community):
    conn.execute(SHOT)
    conn.execute(HOODIE)
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    submission = as_bot(conn, "submit_quest", "discord", D1, "shot", "https://img/1")["submit_quest"]["submission_id"]
    first, second = bought(conn, "tap-1"), bought(conn, "tap-2")
    conn.execute("SELECT xp.review_submission(%s, true, 'nice one')", (submission,))
    conn.execute("SELECT xp.review_purchase(%s, true, 'enjoy @everyone')", (first,))
    conn.execute("SELECT xp.review_purchase(%s, false, 'out of sizes')", (second,))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: len(community.discord.messages_to(D1)) == 3)
        await eventually(lambda: statuses(conn, "discord") == {"done": statuses(conn, "discord").get("done", -1)})
    texts = [m.content for m in community.discord.messages_to(D1)]
    assert sorted(texts) == sorted([
        "✅ Quest approved: Share a screenshot +100 XP +25 coins nice one",
        "✅ Your purchase is approved: Hoodie enjoy @everyone",
        "↩️ Your purchase was declined and 100 coins refunded: Hoodie out of sizes",
    ])
    reviews = review_deliveries(conn)
    assert [r["target"] for r in reviews] == ["discord"] * 3  # told where they acted, not on Telegram too
    assert sorted(r["sent_ref"] for r in reviews) == sorted(m.message_id for m in community.discord.messages_to(D1))
    assert len({m.channel_id for m in community.discord.messages_to(D1)}) == 1
    assert {str(m.allowed_mentions) for m in community.discord.messages_to(D1)} == {"{'parse': []}"}  # pings nobody


async def test_the_direct_message_is_in_the_members_language(conn, pool, db_url, community):
    conn.execute(HOODIE)
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    as_bot(conn, "set_language", "discord", D1, "ru")
    conn.execute("SELECT xp.review_purchase(%s, true, NULL)", (bought(conn, "tap-1"),))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: community.discord.messages_to(D1))
    assert community.discord.messages_to(D1)[0].content == "✅ Покупка одобрена: Худи"


async def test_a_member_who_takes_no_direct_messages_is_not_told_and_no_guild_is_blamed(conn, pool, db_url,
                                                                                        community):
    conn.execute(HOODIE)
    conn.execute("UPDATE xp.settings SET value = '1' WHERE key = 'discord.guild_pause_after'")
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    community.discord.dm_closed.add(D1)
    conn.execute("SELECT xp.review_purchase(%s, true, 'enjoy')", (bought(conn, "tap-1"),))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: [r["status"] for r in review_deliveries(conn)] == ["done"])
    (review,) = review_deliveries(conn)
    assert review["note"] == f"not told: discord 403 to user {D1}: Cannot send messages to this user"
    assert community.discord.messages_to(D1) == []
    assert scalar(conn, "SELECT count(*) FROM xp.guild_health WHERE refusals > 0 OR paused_at IS NOT NULL") == 0
    assert scalar(conn, "SELECT xp.stats() -> 'paused_guilds'") == []


async def test_a_review_already_sent_is_never_sent_again(conn, pool, db_url, community):
    conn.execute(HOODIE)
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    conn.execute("SELECT xp.review_purchase(%s, true, 'enjoy')", (bought(conn, "tap-1"),))
    # a first attempt sent it and lost its ack: the message id is on the delivery, which is due again
    conn.execute("UPDATE xp.deliveries d SET sent_ref = '1200000000000000777' FROM xp.events e "
                 "WHERE e.id = d.event_id AND e.kind = 'purchase_reviewed'")
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: [r["status"] for r in review_deliveries(conn)] == ["done"])
    assert community.discord.messages_to(D1) == []
    assert review_deliveries(conn)[0]["sent_ref"] == "1200000000000000777"


async def test_failures_of_direct_messages_are_retried_and_send_once(conn, pool, db_url, community, fast_retries):
    conn.execute(HOODIE)
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    conn.execute("SELECT xp.review_purchase(%s, true, 'enjoy')", (bought(conn, "tap-1"),))
    conn.execute("DELETE FROM xp.deliveries d USING xp.events e WHERE e.id = d.event_id AND e.kind <> "
                 "'purchase_reviewed'")  # only the review: the faults below fall on its two calls
    community.faults.script("discord", "5xx", "5xx-html", "429")
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: [r["status"] for r in review_deliveries(conn)] == ["done"])
    assert [m.content for m in community.discord.messages_to(D1)] == ["✅ Your purchase is approved: Hoodie enjoy"]
    assert sum(community.faults.injected.values()) == 3


async def test_direct_messages_to_one_member_keep_to_the_channels_limit(conn, pool, db_url, community):
    conn.execute(HOODIE)
    call(conn, "award_coins", "discord", D1, 1000, "gift", "g1")
    for n in range(7):
        conn.execute("SELECT xp.review_purchase(%s, %s, NULL)", (bought(conn, f"tap-{n}"), n % 2 == 0))
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: len(community.discord.messages_to(D1)) == 7, timeout=30)
    assert [c for c in community.traffic.calls_to("discord") if c.status == 429] == []
    assert busiest_second([m.at for m in community.discord.messages_to(D1)]) <= 2  # 5 per 5 s: about one a second
    assert len({m.message_id for m in community.discord.messages_to(D1)}) == 7
    assert G1 in community.discord.members  # the member shares the guild: the bot may write to them


ON_AIR = "INSERT INTO xp.quests (code, title, proof, target, period, reward_xp, reward_coins) " \
         "VALUES ('on-air', '{\"en\": \"On air\"}', 'voice_minutes', 10, 'day', 30, 10)"
SOLO = "300000000000000055"  # a Discord member with no Telegram account


async def test_a_quest_completed_by_itself_is_told_on_discord_to_whom_telegram_cannot_tell(conn, pool, db_url,
                                                                                            community):
    conn.execute(ON_AIR)
    community.discord.add_member(G1, SOLO)
    as_bot(conn, "record_voice", "discord", SOLO, "v1", 900)
    as_bot(conn, "record_voice", "discord", D1, "v2", 900)  # linked to t1: Telegram tells them
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: community.discord.messages_to(SOLO))
        await eventually(lambda: set(statuses(conn, "discord")) == {"done"})
    assert [m.content for m in community.discord.messages_to(SOLO)] == ["🎯 Quest completed: On air +30 XP +10 coins"]
    assert community.discord.messages_to(D1) == []
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
                        "WHERE e.kind = 'quest_completed' AND d.target = 'telegram'") == 1


async def test_nobody_whose_notices_are_off_gets_a_direct_message(conn, pool, db_url, community):
    conn.execute(HOODIE)
    conn.execute(ON_AIR)
    community.discord.add_member(G1, SOLO)
    call(conn, "award_coins", "discord", D1, 300, "gift", "g1")
    as_bot(conn, "set_notify", "discord", D1, False)
    as_bot(conn, "set_notify", "discord", SOLO, False)
    conn.execute("SELECT xp.review_purchase(%s, true, 'enjoy')", (bought(conn, "tap-1"),))
    as_bot(conn, "record_voice", "discord", SOLO, "v1", 900)
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: set(statuses(conn, "discord")) == {"done"})
    assert community.discord.direct_messages == []
    assert [r["note"] for r in review_deliveries(conn)] == ["not told: notices are off"]
