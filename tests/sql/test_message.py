"""xp.record_message: once per message id, one counted message per cooldown per person."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import balances_match_ledger, call, ledger_rows, scalar


def message(conn, external_id="1", chat="c1", message_id="m1", length=20, platform="telegram"):
    return call(conn, "record_message", platform, external_id, chat, message_id, length)


def after_cooldown(conn):
    conn.execute("UPDATE xp.users SET last_message_at = now() - interval '61 seconds'")


def test_a_counted_message_earns_15_to_25_xp(conn):
    row = message(conn)
    assert row["applied"] is True
    assert 15 <= row["xp"] <= 25
    assert scalar(conn, "SELECT messages FROM xp.users") == 1


def test_message_xp_is_random_within_the_range(conn):
    amounts = {message(conn, external_id=str(i), message_id=str(i))["xp"] for i in range(60)}
    assert amounts <= set(range(15, 26))
    assert len(amounts) > 3


def test_the_same_message_counts_once(conn):
    first = message(conn)
    after_cooldown(conn)
    again = message(conn)
    assert again["applied"] is False
    assert again["xp"] == first["xp"]
    assert ledger_rows(conn) == 1


def test_a_second_message_inside_the_cooldown_is_not_counted(conn):
    message(conn, message_id="m1")
    second = message(conn, message_id="m2")
    assert second["applied"] is False
    after_cooldown(conn)
    assert message(conn, message_id="m3")["applied"] is True
    assert scalar(conn, "SELECT messages FROM xp.users") == 2


def test_a_message_skipped_in_the_cooldown_never_counts_later(conn):
    message(conn, message_id="m1")
    assert message(conn, message_id="m2")["applied"] is False
    after_cooldown(conn)
    assert message(conn, message_id="m2")["applied"] is False
    assert ledger_rows(conn) == 1


def test_the_cooldown_follows_settings(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    assert all(message(conn, message_id=f"m{i}")["applied"] for i in range(3))


def test_short_messages_are_not_counted_and_keep_no_cooldown(conn):
    assert message(conn, message_id="m1", length=2)["applied"] is False
    assert message(conn, message_id="m2", length=3)["applied"] is True
    assert scalar(conn, "SELECT messages FROM xp.users") == 1


def test_ignored_chats_are_not_counted(conn):
    conn.execute("UPDATE xp.settings SET value = '[\"telegram:spam\"]' WHERE key = 'message.ignored_chats'")
    assert message(conn, chat="spam")["applied"] is False
    assert message(conn, chat="spam", platform="discord")["applied"] is True


def test_message_ids_are_per_platform_and_chat(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    assert message(conn, chat="a", message_id="1")["applied"] is True
    assert message(conn, chat="b", message_id="1")["applied"] is True
    assert message(conn, chat="a", message_id="1", platform="discord")["applied"] is True


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"length": -1}, "length -1"),
        ({"length": None}, "length NULL"),
        ({"chat": ""}, "chat_id"),
        ({"chat": "c" * 65}, "chat_id is 65"),
        ({"message_id": None}, "message_id"),
        ({"platform": "slack"}, "'slack'"),
    ],
)
def test_invalid_messages_are_xp002(conn, kwargs, names):
    with pytest.raises(psycopg.Error) as err:
        message(conn, **kwargs)
    assert err.value.sqlstate == "XP002"
    assert names in err.value.diag.message_primary
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 0


def test_a_message_replayed_after_cleanup_is_still_counted_once(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    first = call(conn, "record_message", "telegram", "1", "c", "m1", 10)
    conn.execute("UPDATE xp.message_log SET created_at = now() - interval '40 days'")
    scalar(conn, "SELECT xp.cleanup()")  # the message id is forgotten, its ledger row is not
    for _ in range(5):  # the amount is random: a replay that drew another amount was XP004
        again = call(conn, "record_message", "telegram", "1", "c", "m1", 10)
        assert again["applied"] is False and again["xp"] == first["xp"]
    assert scalar(conn, "SELECT messages FROM xp.users") == 1
    assert balances_match_ledger(conn) == []
