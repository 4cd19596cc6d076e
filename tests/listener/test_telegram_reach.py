"""Who a Telegram notice can reach (design.md §7): a bot may write only to people who opened a private
chat with it (/start); the others are told in the group where they were last active when that group
has announcements on, or not at all, and "can't initiate conversation" mutes nobody."""

from __future__ import annotations

import pytest

from tests.helpers import call, scalar
from tests.listener.conftest import eventually, running, started, statuses, telegram_handler

GROUP, QUIET = "-1001000000001", "-1001000000002"
NOT_TOLD = "not told: never opened a chat with the bot and no announcing group"


def delivery(conn) -> dict:
    return conn.execute("SELECT status, attempts, sent_ref, last_error FROM xp.deliveries ORDER BY id DESC LIMIT 1"
                        ).fetchone()


def muted(conn, external_id: str) -> bool:
    """Whether the person's Telegram notices are off."""
    return scalar(conn, "SELECT xp.profile('telegram', %s) ->> 'notify'", external_id) == "false"


def speak(conn, external_id: str, chat: str, n: int = 1) -> None:
    """A group message from the person (the bot records it: that is where they were last active)."""
    call(conn, "record_message", "telegram", external_id, chat, f"m{external_id}-{n}", 40, "Ivan")


async def test_cant_initiate_conversation_mutes_nobody(conn, pool, db_url, sandbox):
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")  # never pressed Start, never in a group
        await eventually(lambda: statuses(conn) == {"done": 1})
    assert delivery(conn)["last_error"] == NOT_TOLD and delivery(conn)["sent_ref"] is None
    assert not muted(conn, "100")
    assert sandbox.telegram.messages == []


async def test_the_others_are_told_in_their_announcing_group(conn, pool, db_url, sandbox):
    conn.execute("INSERT INTO xp.chat_settings (platform, chat_id, announce) VALUES ('telegram', %s, true), "
                 "('telegram', %s, false)", (GROUP, QUIET))
    speak(conn, "100", GROUP)
    speak(conn, "200", QUIET)
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        call(conn, "award_xp", "telegram", "200", 300, "quiz", "k2")
        await eventually(lambda: statuses(conn) == {"done": 2})
    [told] = sandbox.telegram.messages
    assert told.chat_id == GROUP and told.text == "🎉 Ivan reached 🌱 F II!"
    refs = {r["external_id"]: (r["sent_ref"], r["last_error"]) for r in conn.execute(
        "SELECT a.external_id, d.sent_ref, d.last_error FROM xp.deliveries d "
        "JOIN xp.accounts a ON a.user_id = d.user_id AND a.platform = 'telegram'")}
    assert refs == {"100": (str(told.message_id), None), "200": (None, NOT_TOLD)}


async def test_a_chat_telegram_says_was_never_opened_falls_back_to_the_group(conn, pool, db_url, sandbox):
    conn.execute("INSERT INTO xp.chat_settings (platform, chat_id, announce) VALUES ('telegram', %s, true)", (GROUP,))
    conn.execute("SELECT xp.chat_opened('telegram', '100')")  # the database thinks so; Telegram does not
    speak(conn, "100", GROUP)
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"done": 1})
    assert [m.chat_id for m in sandbox.telegram.messages] == [GROUP]
    assert not muted(conn, "100")


@pytest.mark.parametrize("refusal", ["blocked", "deactivated"])
async def test_only_blocked_or_deactivated_mute_and_start_unmutes(conn, pool, db_url, sandbox, refusal):
    started(conn, sandbox, "100")
    getattr(sandbox.telegram, refusal).add("100")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"failed": 1})
        assert muted(conn, "100")
        getattr(sandbox.telegram, refusal).discard("100")  # unblocked, and /start pressed again
        assert scalar(conn, "SELECT xp.chat_opened('telegram', '100')") is True
        assert not muted(conn, "100")
        call(conn, "award_xp", "telegram", "100", 500, "quiz", "k2")
        await eventually(lambda: len(sandbox.telegram.sent_to("100")) == 1)
    assert delivery(conn)["status"] == "done"
