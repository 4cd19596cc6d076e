"""The Telegram listener against the sandbox's Bot API, through aiogram's own session."""

from __future__ import annotations

import time

from tests.helpers import call
from tests.listener.conftest import eventually, running, started, statuses, telegram_handler


async def test_a_rank_up_is_told_in_the_persons_language(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: sandbox.telegram.sent_to("100"))
        conn.execute("UPDATE xp.users SET language = 'ru'")
        call(conn, "award_xp", "telegram", "100", 500, "quiz", "k2")
        await eventually(lambda: len(sandbox.telegram.sent_to("100")) == 2)
        await eventually(lambda: statuses(conn) == {"done": 2})
    texts = [m.text for m in sandbox.telegram.sent_to("100")]
    assert texts == ["🎉 Rank up! You are now 🌱 F II.", "🎉 Новый ранг! Теперь вы 🌱 F III."]
    refs = [r["sent_ref"] for r in conn.execute("SELECT sent_ref FROM xp.deliveries ORDER BY id")]
    assert refs == [str(m.message_id) for m in sandbox.telegram.sent_to("100")]


async def test_demotions_and_opted_out_people_get_no_message(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100", "200")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"done": 1})
        call(conn, "award_xp", "telegram", "100", -100, "penalty", "k2")  # demotion
        await eventually(lambda: statuses(conn) == {"done": 2})
        call(conn, "award_xp", "telegram", "200", 10, "r", "k3")
        conn.execute("UPDATE xp.users SET notify = false WHERE id = (SELECT user_id FROM xp.accounts "
                     "WHERE external_id = '200')")
        call(conn, "award_xp", "telegram", "200", 300, "quiz", "k4")  # no delivery is even written
    assert [m.chat_id for m in sandbox.telegram.messages] == ["100"]
    assert statuses(conn) == {"done": 2}


async def test_a_stored_message_id_is_never_sent_again(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100")
    call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
    conn.execute("UPDATE xp.deliveries SET sent_ref = '77'")  # sent by a listener that died before its ack
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        await eventually(lambda: statuses(conn) == {"done": 1})
    assert sandbox.telegram.messages == []


async def test_a_blocked_chat_fails_for_good_and_mutes_the_person(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100")
    sandbox.telegram.blocked.add("100")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"failed": 1})
    row = conn.execute("SELECT d.last_error, u.notify FROM xp.deliveries d JOIN xp.users u ON u.id = d.user_id"
                       ).fetchone()
    assert row == {"last_error": "telegram 403: Forbidden: bot was blocked by the user", "notify": False}


async def test_429_waits_retry_after_without_counting_an_attempt(conn, pool, db_url, sandbox, fast_retries):
    started(conn, sandbox, "100")
    sandbox.faults.script("telegram", "429", "5xx")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        since = time.monotonic()
        await eventually(lambda: statuses(conn) == {"done": 1})
        waited = time.monotonic() - since
    assert waited >= 1.0  # the sandbox said retry after 1 second
    # the 429 was not counted: one attempt for the 502, one for the success
    assert conn.execute("SELECT attempts FROM xp.deliveries").fetchone()["attempts"] == 2
    assert len(sandbox.telegram.messages) == 1


async def test_a_chat_telegram_does_not_know_fails_for_good(conn, pool, db_url, sandbox):
    conn.execute("SELECT xp.chat_opened('telegram', 'not-a-chat')")  # an id no chat has
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "not-a-chat", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"failed": 1})
    assert conn.execute("SELECT last_error FROM xp.deliveries").fetchone()["last_error"] == (
        "telegram 400: Bad Request: chat not found"
    )


async def test_an_achievement_is_told_in_the_language_the_person_chose(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100")
    conn.execute("SELECT xp.set_language('telegram', '100', 'ru')")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "record_voice", "telegram", "100", "s", 3600)  # voice_1h, then F II from its reward
        await eventually(lambda: len(sandbox.telegram.sent_to("100")) == 2)
        conn.execute("SELECT xp.set_notify('telegram', '100', false)")
        call(conn, "record_voice", "telegram", "100", "s", 36000)  # voice_10h and more rank-ups: not told
        await eventually(lambda: statuses(conn) == {"done": 2})
    texts = [m.text for m in sandbox.telegram.sent_to("100")]
    assert texts == ["🏆 Новое достижение: 🎙️ В эфире", "🎉 Новый ранг! Теперь вы 🌱 F II."]
