"""Bot keys live in a namespace of their own (design.md §2): a key a bot chooses can never equal
one the database makes for itself, so no bot can cancel a reward or block someone's messages by
guessing the database's key; and a bot key replays as before."""

from __future__ import annotations

import datetime

import psycopg
import pytest

from tests.helpers import assert_consistent, call, scalar


def today():
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def uid_of(conn, platform, external_id):
    return call(conn, "award_xp", platform, external_id, 1, "hello", f"hello-{platform}-{external_id}")["user_id"]


def test_a_bot_key_equal_to_the_days_claim_cancels_nothing(conn):
    uid = uid_of(conn, "telegram", "1")
    for kind in ("xp", "coins"):
        call(conn, "award_coins", "telegram", "1", 1, "decoy", f"daily:{uid}:{today()}:{kind}")
    daily = call(conn, "claim_daily", "telegram", "1")
    assert daily["applied"] and daily["xp_awarded"] == 100 and daily["coins_awarded"] == 50
    assert daily["xp"] == 101 and daily["coins"] == 52
    assert_consistent(conn)


def test_a_bot_key_equal_to_a_rank_reward_or_achievement_key_cancels_nothing(conn):
    uid = uid_of(conn, "telegram", "1")
    call(conn, "award_coins", "telegram", "1", 1, "decoy", f"rank-reward:{uid}:2")
    call(conn, "award_coins", "telegram", "1", 1, "decoy", f"achievement:{uid}:tier_e:coins")
    up = call(conn, "award_xp", "telegram", "1", 300, "up", "up")
    assert (up["new_rank"], up["reward_coins"]) == (2, 50)
    assert up["coins"] == 2 + 50
    assert_consistent(conn)


def test_a_bot_key_equal_to_a_message_key_never_blocks_that_message(conn):
    call(conn, "award_xp", "discord", "1", 5, "decoy", "msg:discord:chan:m1")
    counted = call(conn, "record_message", "discord", "1", "chan", "m1", 40)
    assert counted["applied"] and 20 <= counted["xp"] <= 30
    assert_consistent(conn)


def test_a_bot_key_equal_to_a_voice_or_game_key_cancels_nothing(conn):
    call(conn, "award_xp", "discord", "1", 5, "decoy", "x")
    acc = scalar(conn, "SELECT id FROM xp.accounts")
    call(conn, "award_xp", "discord", "1", 5, "decoy", f"voice:{acc}:s1:3")
    assert call(conn, "record_voice", "discord", "1", "s1", 60)["applied"]
    nxt = scalar(conn, "SELECT coalesce(max(id), 0) + 1 FROM xp.game_sessions")
    call(conn, "award_xp", "telegram", "2", 5, "decoy", f"game:{nxt}")
    spin = scalar(conn, "SELECT xp.start_game('telegram', '2', 'spin')")
    assert spin["session_id"] == nxt and spin["applied"]
    assert_consistent(conn)


def test_a_bot_key_still_replays_and_still_refuses_other_parameters(conn):
    first = call(conn, "award_xp", "telegram", "1", 10, "r", "daily:1:2020-01-01:xp")
    again = call(conn, "award_xp", "telegram", "1", 10, "r", "daily:1:2020-01-01:xp")
    assert (first["applied"], again["applied"], again["xp"]) == (True, False, 10)
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_coins", "telegram", "1", 10, "r", "daily:1:2020-01-01:xp")
    assert err.value.sqlstate == "XP004"
