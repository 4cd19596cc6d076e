"""Quests and the shop in the real Telegram bot (aiogram routers fed raw updates, answering through
the sandbox's Bot API), the operators' wording taken up live, and the review notices the real
Telegram listener sends."""

from __future__ import annotations

import json

from tests.bots.test_telegram_bot import Chat, ivan, telegram  # noqa: F401 - its fixtures
from tests.helpers import call, scalar
from tests.listener.conftest import eventually, running, telegram_handler
from xpsync.texts import say, wording


def setup_economy(conn):
    conn.execute("INSERT INTO xp.quests (code, title, proof, target, period, reward_xp, reward_coins) VALUES "
                 "('chatter', %s, 'messages', 3, 'day', 50, 10), ('shot', %s, 'submission', 1, 'once', 100, 25)",
                 (json.dumps({"en": "Say hello", "ru": "Поздоровайтесь"}), json.dumps({"en": "Share a screenshot"})))
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock) VALUES ('hoodie', 'custom', %s, 100, 2)",
                 (json.dumps({"en": "Hoodie", "ru": "Худи"}),))


async def test_quests_list_progress_and_a_submission_from_the_button(ivan, conn):  # noqa: F811
    setup_economy(conn)
    listing = await ivan.send("/quests")
    assert listing.text.splitlines() == ["📜 Quests", "Say hello — +50 XP +10 coins · 0/3",
                                         "Share a screenshot — +100 XP +25 coins · 0/1"]
    buttons = [b["callback_data"] for row in listing.reply_markup["inline_keyboard"] for b in row]
    assert buttons == ["qs:shot"]  # only the submission quest has a button
    prompt = await ivan.press("qs:shot")
    assert prompt.text.endswith("/submit shot …")
    done = await ivan.send("/submit shot https://example.org/shot.png")
    assert done.text == "📨 Sent for review: Share a screenshot. You will hear back here."
    row = conn.execute("SELECT quest, platform, proof, status FROM xp.quest_submissions").fetchone()
    assert row == {"quest": "shot", "platform": "telegram", "proof": "https://example.org/shot.png",
                   "status": "pending"}
    again = await ivan.send("/quests")
    assert again.text.splitlines()[2].endswith("waiting for review ⏳") and again.reply_markup is None
    assert (await ivan.send("/submit shot")).text.endswith("/submit CODE …")  # no proof: how to, nothing sent
    refused = await ivan.send("/submit chatter hello")
    assert refused.text.startswith("That did not work: quest chatter completes by itself")


async def test_a_russian_member_reads_the_quests_in_russian(telegram, sandbox, conn):  # noqa: F811
    setup_economy(conn)
    olga = Chat(*telegram, sandbox, user_id=300, language="ru")
    listing = await olga.send("/quests")
    assert listing.text.splitlines()[1] == "Поздоровайтесь — +50 XP +10 монет · 0/3"


async def test_the_shop_sells_once_per_tap_and_refuses_when_short(ivan, conn):  # noqa: F811
    setup_economy(conn)
    call(conn, "award_coins", "telegram", "100", 150, "gift", "g1")
    listing = await ivan.send("/shop")
    assert listing.text.splitlines() == ["🛒 Shop — you have 150 coins", "Hoodie — 100 coins (2 left)"]
    assert [b["callback_data"] for row in listing.reply_markup["inline_keyboard"] for b in row] == ["buy:hoodie"]
    bought = await ivan.press("buy:hoodie", message_id=7)
    assert bought.text == "🛍 Bought: Hoodie, waiting for an operator. Coins left: 50."
    again = await ivan.press("buy:hoodie", message_id=7)  # the same button of the same listing
    assert again.text == bought.text
    assert scalar(conn, "SELECT count(*) FROM xp.purchases") == 1
    short = await ivan.press("buy:hoodie", message_id=8)  # a new listing: a new purchase, too dear now
    assert short.text == "Not enough balance for that."
    assert scalar(conn, "SELECT coins FROM xp.users") == 50


async def test_a_new_member_sees_the_shop_with_nothing_to_spend(telegram, sandbox, conn):  # noqa: F811
    setup_economy(conn)
    new = Chat(*telegram, sandbox, user_id=555)
    assert (await new.send("/shop")).text.splitlines()[0] == "🛒 Shop — you have 0 coins"


async def test_reviews_are_told_by_the_telegram_listener_in_the_members_words(ivan, conn, pool, sandbox, db_url):  # noqa: F811
    setup_economy(conn)
    await ivan.send("/start")
    call(conn, "award_coins", "telegram", "100", 150, "gift", "g1")
    await ivan.send("/submit shot my proof")
    await ivan.press("buy:hoodie", message_id=3)
    submission = scalar(conn, "SELECT id FROM xp.quest_submissions")
    purchase = scalar(conn, "SELECT id FROM xp.purchases")
    conn.execute("SELECT xp.review_submission(%s, true, 'nice one')", (submission,))
    conn.execute("SELECT xp.review_purchase(%s, false, 'out of sizes')", (purchase,))
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        await eventually(lambda: len([m for m in ivan.sent() if m.text.startswith(("✅", "↩️"))]) == 2)
    texts = [m.text for m in ivan.sent()]
    assert "✅ Quest approved: Share a screenshot +100 XP +25 coins nice one" in texts
    assert "↩️ Your purchase was declined and 100 coins refunded: Hoodie out of sizes" in texts
    assert scalar(conn, "SELECT coins FROM xp.users") == 175


async def test_a_reworded_text_is_said_by_the_running_bot_at_once(ivan, conn, pool, db_url):  # noqa: F811
    from xpsync.config_watch import presence

    try:
        async with presence(pool, db_url, "bot:telegram"):
            conn.execute("SELECT xp.set_text('welcome', 'en', 'Hey {name}, welcome aboard!')")
            await eventually(lambda: say("en", "welcome", name="x") == "Hey x, welcome aboard!", timeout=1.5)
            assert (await ivan.send("/start")).text == "Hey Ivan, welcome aboard!"
            conn.execute("SELECT xp.set_text('welcome', 'en', NULL)")
            await eventually(lambda: say("en", "welcome", name="x").startswith("👋 Welcome, x!"), timeout=1.5)
    finally:
        wording.WORDING.replace([])  # the process's wording: the next test starts from the code's
