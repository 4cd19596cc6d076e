"""Timed XP multipliers (design.md §2): global or per chat, edges of their window, overlapping ones
multiply up to the cap, and the factor recorded on the ledger row."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import assert_consistent, call, scalar


def multiplier(conn, factor, starts="now() - interval '1 hour'", ends="now() + interval '1 hour'",
               platform=None, chat=None):
    conn.execute(f"INSERT INTO xp.multipliers (factor, platform, chat_id, starts_at, ends_at) "
                 f"VALUES (%s, %s, %s, {starts}, {ends})", (factor, platform, chat))


def last_row(conn):
    """The newest XP row that is not a reward for a rank or achievement reached."""
    return conn.execute("SELECT delta, factor FROM xp.ledger WHERE kind = 'xp' AND reason NOT LIKE 'achievement:%' "
                        "ORDER BY id DESC LIMIT 1").fetchone()


def test_a_global_multiplier_raises_awards_and_is_recorded(conn):
    multiplier(conn, 2)
    result = call(conn, "award_xp", "telegram", "1", 10, "game", "k1")
    assert result["xp"] == 20
    assert (last_row(conn)["delta"], float(last_row(conn)["factor"])) == (20, 2.0)
    # a replay after the weekend is over is still the same award, not XP004
    conn.execute("UPDATE xp.multipliers SET ends_at = now() - interval '1 minute', "
                 "starts_at = now() - interval '2 hours'")
    assert call(conn, "award_xp", "telegram", "1", 10, "game", "k1")["applied"] is False
    assert call(conn, "award_xp", "telegram", "1", 10, "game", "k2")["xp"] == 30


def test_penalties_are_never_multiplied(conn):
    call(conn, "award_xp", "telegram", "1", 100, "r", "k1")
    multiplier(conn, 3)
    assert call(conn, "award_xp", "telegram", "1", -10, "penalty", "k2")["xp"] == 90


def test_the_window_includes_its_start_and_excludes_its_end(conn):
    with conn.transaction():  # now() is the transaction's start: the same instant for both statements
        multiplier(conn, 2, starts="now()", ends="now() + interval '1 hour'")
        assert call(conn, "award_xp", "telegram", "1", 10, "r", "k1")["xp"] == 20
    conn.execute("DELETE FROM xp.multipliers")
    with conn.transaction():
        multiplier(conn, 2, starts="now() - interval '1 hour'", ends="now()")
        assert call(conn, "award_xp", "telegram", "1", 10, "r", "k2")["xp"] == 30


@pytest.mark.parametrize(("factors", "expected"), [([1.5, 2], 3.0), ([2, 2], 3.0), ([1.25, 1.2], 1.5),
                                                   ([3, 3, 3], 3.0)])
def test_overlapping_multipliers_multiply_up_to_the_cap(conn, factors, expected):
    for f in factors:
        multiplier(conn, f)
    call(conn, "award_xp", "discord", "1", 100, "r", "k")
    assert (last_row(conn)["delta"], float(last_row(conn)["factor"])) == (round(100 * expected), expected)


def test_a_chat_multiplier_applies_to_messages_in_that_chat_only(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    conn.execute("UPDATE xp.settings SET value = '20' WHERE key IN ('message.xp_min', 'message.xp_max')")
    multiplier(conn, 2, platform="discord", chat="c1")
    call(conn, "record_message", "discord", "1", "c1", "m1", 10)
    assert last_row(conn)["delta"] == 40
    call(conn, "record_message", "discord", "1", "c2", "m2", 10)
    assert last_row(conn)["delta"] == 20
    call(conn, "record_message", "telegram", "1", "c1", "m3", 10)  # same id on another platform
    assert last_row(conn)["delta"] == 20
    call(conn, "award_xp", "discord", "1", 20, "r", "k")  # not a message in that chat
    assert last_row(conn)["delta"] == 20


def test_voice_and_the_daily_reward_follow_global_multipliers(conn):
    multiplier(conn, 1.5)
    call(conn, "record_voice", "discord", "1", "s", 600)  # 10 minutes, 30 XP
    assert last_row(conn)["delta"] == 45
    daily = call(conn, "claim_daily", "discord", "1")
    assert daily["xp_awarded"] == 150
    assert scalar(conn, "SELECT delta FROM xp.ledger WHERE reason = 'daily reward' AND kind = 'xp'") == 150
    assert scalar(conn, "SELECT delta FROM xp.ledger WHERE reason = 'daily reward' AND kind = 'coins'") == 50
    assert_consistent(conn)


@pytest.mark.parametrize("values", [
    "(0.5, NULL, NULL, now(), now() + interval '1 hour')",
    "(3.5, NULL, NULL, now(), now() + interval '1 hour')",
    "(2, 'discord', NULL, now(), now() + interval '1 hour')",
    "(2, NULL, 'c1', now(), now() + interval '1 hour')",
    "(2, NULL, NULL, now(), now())",
    "(2, 'irc', 'c', now(), now() + interval '1 hour')",
])
def test_a_bad_multiplier_row_is_refused(conn, values):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(f"INSERT INTO xp.multipliers (factor, platform, chat_id, starts_at, ends_at) VALUES {values}")
