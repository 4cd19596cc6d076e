"""Quests and the shop in the real Discord bot: slash commands fed as gateway INTERACTION_CREATE
payloads, answered through the sandbox's REST API."""

from __future__ import annotations

import json

from tests.bots.test_discord_bot import bot, slash  # noqa: F401 - its fixture and driver
from tests.helpers import call, scalar


def setup_economy(conn):
    conn.execute("INSERT INTO xp.quests (code, title, proof, target, period, reward_xp, reward_coins) VALUES "
                 "('chatter', %s, 'messages', 3, 'day', 50, 10), ('shot', %s, 'submission', 1, 'once', 100, 25)",
                 (json.dumps({"en": "Say hello", "ru": "Поздоровайтесь"}), json.dumps({"en": "Share a screenshot"})))
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock, guild_id, role_id, days, needs_approval) "
                 "VALUES ('vip', 'discord_role', %s, 100, NULL, '77', '901', 7, false)",
                 (json.dumps({"en": "VIP role (7 days)"}),))


def option(name, value):
    return {"name": name, "type": 3, "value": value}


async def test_quests_and_a_submission(bot, sandbox, conn):  # noqa: F811
    setup_economy(conn)
    listing = await slash(bot, sandbox, "quests")
    assert listing.data["content"].splitlines()[1:] == ["Say hello — +50 XP +10 coins · 0/3",
                                                        "Share a screenshot — +100 XP +25 coins · 0/1"]
    assert listing.data["flags"] == 64
    sent = await slash(bot, sandbox, "submit", options=[option("quest", "shot"), option("proof", "a link")])
    assert sent.data["content"] == "📨 Sent for review: Share a screenshot. You will hear back here."
    row = conn.execute("SELECT platform, proof FROM xp.quest_submissions").fetchone()
    assert row == {"platform": "discord", "proof": "a link"}
    refused = await slash(bot, sandbox, "submit", options=[option("quest", "nope"), option("proof", "x")])
    assert refused.data["content"] == "That did not work: unknown quest 'nope'"


async def test_russian_locale_reads_the_quests_in_russian(bot, sandbox, conn):  # noqa: F811
    setup_economy(conn)
    listing = await slash(bot, sandbox, "quests", locale="ru")
    assert listing.data["content"].splitlines()[1] == "Поздоровайтесь — +50 XP +10 монет · 0/3"


async def test_the_shop_and_a_role_bought_at_once(bot, sandbox, conn):  # noqa: F811
    setup_economy(conn)
    call(conn, "award_coins", "discord", "555", 150, "gift", "g1")
    listing = await slash(bot, sandbox, "shop")
    assert listing.data["content"].splitlines() == ["🛒 Shop — you have 150 coins", "VIP role (7 days) — 100 coins"]
    bought = await slash(bot, sandbox, "buy", options=[option("item", "vip")])
    assert bought.data["content"] == "🛍 Bought: VIP role (7 days). Coins left: 50."
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = '555'")
    assert "901" in scalar(conn, "SELECT desired FROM xp.discord_role_plan(%s) WHERE guild_id = '77'", uid)
    short = await slash(bot, sandbox, "buy", options=[option("item", "vip")])
    assert short.data["content"] == "Not enough balance for that."
    assert scalar(conn, "SELECT coins FROM xp.users") == 50
