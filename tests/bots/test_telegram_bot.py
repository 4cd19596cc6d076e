"""The Telegram bot's real aiogram routers, fed raw updates, answering through the sandbox's Bot API."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.helpers import call, scalar
from tests.listener.conftest import eventually, running, telegram_handler
from xpsync.bots.telegram.app import build_dispatcher
from xpsync.platforms.telegram_client import build_bot

_ids = itertools.count(1)


class Chat:
    """One member talking to the bot: sends updates, reads what the bot answered."""

    def __init__(self, dp, bot, sandbox, user_id=100, chat_id=None, chat_type="private", language="en"):
        self.dp, self.bot, self.sandbox = dp, bot, sandbox
        self.user = {"id": user_id, "is_bot": False, "first_name": "Ivan", "language_code": language}
        self.chat = {"id": chat_id or user_id, "type": chat_type}
        if chat_type == "private":  # writing to a bot in private means having pressed its Start
            sandbox.telegram.open_chat(str(self.chat["id"]))

    async def send(self, text):
        n = next(_ids)
        await self.dp.feed_raw_update(self.bot, {"update_id": n, "message": {
            "message_id": n, "date": int(time.time()), "chat": self.chat, "from": self.user, "text": text}})
        return self.last()

    async def press(self, data, message_id=1):
        n = next(_ids)
        await self.dp.feed_raw_update(self.bot, {"update_id": n, "callback_query": {
            "id": str(n), "from": self.user, "chat_instance": "ci", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": self.chat, "text": "…"}}})
        return self.last()

    def sent(self):
        return self.sandbox.telegram.sent_to(str(self.chat["id"]))

    def last(self):
        sent = self.sent()
        return sent[-1] if sent else None


@pytest.fixture
async def telegram(pool, sandbox):
    bot = build_bot(sandbox.telegram.token, sandbox.telegram_api_base)
    yield build_dispatcher(pool), bot
    await bot.session.close()


@pytest.fixture
def ivan(telegram, sandbox):
    return Chat(*telegram, sandbox)


async def test_start_daily_and_profile_come_from_the_database(ivan, conn):
    assert "Welcome, Ivan" in (await ivan.send("/start")).text
    first = await ivan.send("/daily")
    assert first.text == "🎁 +100 XP and +50 coins. Streak: 1 days."
    assert (await ivan.send("/daily")).text.startswith("⏳ Already claimed today. Come back at ")
    sent = await ivan.send("/profile")
    profile = sent.text  # the photo's caption
    assert "rank F I" in profile and "XP 100 · coins 50" in profile and "155 XP to F II" in profile
    assert sent.photo is not None and sent.photo[:8] == b"\x89PNG\r\n\x1a\n"  # the rank card
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'daily reward'") == 2


async def test_start_opens_the_private_chat_and_unmutes_a_blocked_person(ivan, conn):
    ivan.sandbox.telegram.opened.discard("100")  # as Telegram sees it: Ivan blocked the bot once
    call(conn, "award_xp", "telegram", "100", 10, "r", "k100")
    conn.execute("UPDATE xp.users SET notify = false")
    conn.execute("UPDATE xp.accounts SET chat_blocked_at = now() WHERE external_id = '100'")
    ivan.sandbox.telegram.open_chat("100")  # he unblocks the bot and presses Start
    assert "Welcome, Ivan" in (await ivan.send("/start")).text
    account = conn.execute("SELECT a.chat_opened_at IS NOT NULL AS opened, a.chat_blocked_at, u.notify "
                           "FROM xp.accounts a JOIN xp.users u ON u.id = a.user_id WHERE a.external_id = '100'"
                           ).fetchone()
    assert account == {"opened": True, "chat_blocked_at": None, "notify": True}


async def test_start_in_a_group_opens_no_private_chat(telegram, sandbox, conn):
    group = Chat(*telegram, sandbox, user_id=101, chat_id=-1005, chat_type="supergroup")
    await group.send("/start")
    assert scalar(conn, "SELECT count(*) FROM xp.accounts WHERE chat_opened_at IS NOT NULL") == 0
async def test_the_profile_photo_is_the_rank_card_the_web_shows(ivan, conn):
    from xpsync.cards import Card, card_png

    await ivan.send("/daily")
    sent = await ivan.send("/profile")
    profile = scalar(conn, "SELECT xp.profile('telegram', '100')")
    assert sent.photo == card_png(Card.from_profile(profile, "en"))
    assert sent.photo != card_png(Card.from_profile(profile, "ru"))  # the card speaks the member's language


async def test_privacy_hides_the_person_from_the_boards_and_back(ivan, conn):
    call(conn, "award_xp", "telegram", "7", 300, "r", "k7", "Anna")
    await ivan.send("/daily")
    assert "Ivan" in (await ivan.send("/top")).text
    assert (await ivan.send("/privacy on")).text.startswith("🙈 You are hidden")
    assert scalar(conn, "SELECT hidden FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id "
                        "WHERE a.external_id = '100'") is True
    assert (await ivan.send("/top")).text == "🏆 Top — all time\n1. Anna — 300 XP"
    assert (await ivan.send("/privacy maybe")).text == "Use /privacy on (hide me) or /privacy off (show me)."
    assert (await ivan.send("/privacy off")).text == "👀 You are shown on the public boards again."
    assert "Ivan" in (await ivan.send("/top")).text


async def test_top_shows_the_board_of_the_period_asked(ivan, conn):
    call(conn, "award_xp", "telegram", "7", 300, "r", "k7", "Anna")
    call(conn, "award_xp", "telegram", "8", 200, "r", "k8", "Boris")
    assert (await ivan.send("/top")).text == "🏆 Top — all time\n1. Anna — 300 XP\n2. Boris — 200 XP"
    assert (await ivan.send("/top week")).text.startswith("🏆 Top — this week\n1. Anna")
    refusal = (await ivan.send("/top season")).text  # no season is running: a friendly line
    assert refusal.startswith("That did not work: no season is running now")


async def test_linking_with_discord_makes_one_person(ivan, conn):
    code = scalar(conn, "SELECT xp.create_link_code('discord', 'd1')")
    assert (await ivan.send(f"/link {code.lower()}")).text == "✅ Linked: one person, one progression."
    assert scalar(conn, "SELECT count(DISTINCT user_id) FROM xp.accounts") == 1
    assert (await ivan.send("/link WRONG123")).text.startswith("❌ That code did not work.")
    issued = (await ivan.send("/link")).text
    assert issued.startswith("🔗 Your code: ") and len(issued.split()[3]) == 8
    assert (await ivan.send("/unlink")).text.startswith("Unlinked.")
    assert (await ivan.send("/unlink")).text == "This is your only account: there is nothing to unlink it from."


async def test_language_and_notices_are_the_persons_choice(ivan, conn):
    assert (await ivan.send("/lang ru")).text == "Язык: русский."
    assert (await ivan.send("/daily")).text.startswith("🎁 +100 опыта")
    assert (await ivan.send("/notify off")).text == "🔕 Уведомления выключены."
    assert scalar(conn, "SELECT notify FROM xp.users") is False
    assert (await ivan.send("/notify maybe")).text == "Используйте /notify on или /notify off."
    assert (await ivan.send("/lang de")).text == "Используйте /lang en или /lang ru."
    assert (await ivan.send("/unlink")).text == "Это ваш единственный аккаунт: отвязывать не от чего."


async def test_a_guess_game_played_to_the_end_pays_once_even_if_the_last_tap_comes_twice(ivan, conn, sandbox):
    menu = await ivan.send("/games")
    buttons = [b["callback_data"] for row in menu.reply_markup["inline_keyboard"] for b in row]
    assert buttons == ["game:guess", "game:quiz", "game:spin"]
    prompt = await ivan.press("game:guess")
    assert prompt.text == "🔢 I am thinking of a number from 1 to 100. Tries left: 7."
    session = scalar(conn, "SELECT id FROM xp.game_sessions")
    n = scalar(conn, "SELECT (state ->> 'secret')::int FROM xp.game_sessions")
    decade = (n - 1) // 10 * 10
    await ivan.press(f"gd:{session}:{decade}")
    keyboard = sandbox.telegram.edits[-1][2]["inline_keyboard"]
    assert next(b["callback_data"] for row in keyboard for b in row) == f"gn:{session}:{decade + 1}"
    if n > 1:
        wrong = await ivan.press(f"gn:{session}:{n - 1}")
        assert wrong.text == f"🔢 I am thinking of a number from 1 to 100. Tries left: 6. It is higher than {n - 1}."
    won = await ivan.press(f"gn:{session}:{n}")
    assert won.text == f"🎉 Yes, {n}! +50 XP." and won.reply_markup is None
    again = await ivan.press(f"gn:{session}:{n}")  # the same button again
    assert again.text == "This game is over. Start another with /games."
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'guess won'") == 1


async def test_a_quiz_and_the_wheel(ivan, conn):
    question = await ivan.press("game:quiz")
    session, answer = conn.execute(
        "SELECT s.id, q.answer FROM xp.game_sessions s JOIN xp.quiz_questions q "
        "ON q.id = (s.state ->> 'question_id')::int").fetchone().values()
    assert len(question.reply_markup["inline_keyboard"]) == 4
    assert (await ivan.press(f"qa:{session}:{answer}")).text == "✅ Right! +20 XP."
    spin = await ivan.press("game:spin")
    assert spin.text.startswith("🎡 The wheel gives you ")
    assert (await ivan.press("game:spin")).text.startswith("🎡 You already spun today.")


async def test_group_messages_count_but_commands_bots_and_private_chats_do_not(telegram, sandbox, conn):
    group = Chat(*telegram, sandbox, user_id=5, chat_id=-1001, chat_type="supergroup")
    await group.send("hello everyone")
    await group.send("/top")
    assert group.sent()[-1].text.startswith("🏆")  # a command is answered, not counted
    await group.send("/top@other_bot")  # another bot's command: neither answered nor counted
    assert len(group.sent()) == 1
    assert scalar(conn, "SELECT messages FROM xp.users") == 1
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 1
    await Chat(*telegram, sandbox, user_id=6).send("a private hello")
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 1


async def test_an_unexpected_error_is_logged_and_answered_with_an_apology(ivan, conn, caplog):
    conn.execute("REVOKE EXECUTE ON FUNCTION xp.claim_daily(text, text, text) FROM PUBLIC")
    conn.execute("ALTER FUNCTION xp.claim_daily(text, text, text) RENAME TO claim_daily_gone")
    reply = await ivan.send("/daily")
    assert reply.text == "😵 Something went wrong on our side. Please try again in a moment."
    assert any("unexpected error in telegram update" in r.message for r in caplog.records)


async def test_only_a_members_own_words_count_not_channel_posts_or_messages_on_behalf_of_a_chat(telegram, sandbox,
                                                                                                  conn):
    dp, bot = telegram
    group = {"id": -1002, "type": "supergroup", "title": "Discussion"}
    channel = {"id": -1003, "type": "channel", "title": "News"}

    async def feed(kind, message):
        n = next(_ids)
        await dp.feed_raw_update(bot, {"update_id": n, kind: {"message_id": n, "date": int(time.time()), **message}})

    words = "a long enough message to count"
    # a channel post forwarded into its discussion group: Telegram's service user 777000, the channel as sender
    await feed("message", {"chat": group, "text": words, "is_automatic_forward": True, "sender_chat": channel,
                           "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"}})
    # an anonymous admin (on behalf of the group) and a member posting as the channel
    await feed("message", {"chat": group, "text": words, "sender_chat": group,
                           "from": {"id": 1087968824, "is_bot": True, "first_name": "Group",
                                    "username": "GroupAnonymousBot"}})
    await feed("message", {"chat": group, "text": words, "sender_chat": channel,
                           "from": {"id": 136817688, "is_bot": True, "first_name": "Channel",
                                    "username": "Channel_Bot"}})
    await feed("channel_post", {"chat": channel, "text": words, "sender_chat": channel})  # the post itself
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0  # nobody was even created
    await feed("message", {"chat": group, "text": words,
                           "from": {"id": 9, "is_bot": False, "first_name": "Olga"}})
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 1
    assert scalar(conn, "SELECT external_id FROM xp.accounts") == "9"


async def test_a_russian_app_is_answered_and_told_in_russian_until_the_person_chooses(telegram, sandbox, conn, pool,
                                                                                      db_url):
    olga = Chat(*telegram, sandbox, user_id=300, language="ru")
    assert (await olga.send("/start")).text.startswith("👋 Привет, Ivan!")
    assert (await olga.send("/daily")).text == "🎁 +100 опыта и +50 монет. Серия: 1 дн."
    assert (await olga.send("/daily")).text.startswith("⏳ Сегодня награда уже получена.")  # a known account too
    assert scalar(conn, "SELECT client_language FROM xp.accounts WHERE external_id = '300'") == "ru"
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):  # the listener's notice, too
        call(conn, "award_xp", "telegram", "300", 200, "r", "k1")
        await eventually(lambda: olga.last().text.startswith("🎉"))
        assert olga.last().text == "🎉 Новый ранг! Теперь вы 🌱 F II."
        assert (await olga.send("/lang en")).text == "Language: English."  # the choice beats the app
        assert (await olga.send("/daily")).text.startswith("⏳ Already claimed today.")
        call(conn, "award_xp", "telegram", "300", 500, "r", "k2")
        await eventually(lambda: olga.last().text.startswith("🎉"))
        assert olga.last().text == "🎉 Rank up! You are now 🌱 F III."


async def test_a_members_app_language_is_recorded_when_it_is_new_and_when_it_changes(telegram, sandbox, conn):
    member = Chat(*telegram, sandbox, user_id=301, chat_id=-1005, chat_type="supergroup", language="ru")
    await member.send("hello everyone")  # only counted, never answered: the app's language is recorded all the same
    assert scalar(conn, "SELECT client_language FROM xp.accounts WHERE external_id = '301'") == "ru"
    member.user["language_code"] = "en-GB"
    await member.send("hello again")
    assert scalar(conn, "SELECT client_language FROM xp.accounts WHERE external_id = '301'") == "en"
    member.user["language_code"] = "x"  # nothing the database accepts: no apology in the group, still counted
    await member.send("and once more, after a minute")
    assert member.sent() == [] and scalar(conn, "SELECT count(*) FROM xp.message_log") == 3
