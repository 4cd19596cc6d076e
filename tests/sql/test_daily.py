"""xp.claim_daily: once per UTC day per person, streaks and their bonus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import balances_match_ledger, call, ledger_rows, scalar


def tomorrow_midnight_utc() -> datetime:
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)


def test_first_claim_pays_xp_and_coins(conn):
    row = call(conn, "claim_daily", "telegram", "1", "Ivan")
    assert row["applied"] is True
    assert (row["xp"], row["coins"], row["streak"]) == (100, 50, 1)
    assert (row["xp_awarded"], row["coins_awarded"]) == (100, 50)
    assert row["next_claim_at"] == tomorrow_midnight_utc()
    assert scalar(conn, "SELECT display_name FROM xp.users") == "Ivan"


def test_second_claim_the_same_day_applies_nothing(conn):
    call(conn, "claim_daily", "telegram", "1")
    again = call(conn, "claim_daily", "telegram", "1")
    assert again["applied"] is False
    assert (again["xp"], again["coins"], again["streak"]) == (100, 50, 1)
    assert (again["xp_awarded"], again["coins_awarded"]) == (0, 0)
    assert again["next_claim_at"] == tomorrow_midnight_utc()
    assert ledger_rows(conn) == 2


@pytest.mark.parametrize(
    ("streak_before", "streak_after", "coins"),
    [(1, 2, 60), (3, 4, 80), (6, 7, 110), (20, 21, 110)],
)
def test_claiming_the_day_after_grows_the_streak_and_its_capped_bonus(conn, streak_before, streak_after, coins):
    call(conn, "award_xp", "discord", "1", 1, "hello", "k0")
    conn.execute(
        "UPDATE xp.users SET last_daily = (now() AT TIME ZONE 'UTC')::date - 1, streak = %s", (streak_before,)
    )
    row = call(conn, "claim_daily", "discord", "1")
    assert (row["streak"], row["coins_awarded"]) == (streak_after, coins)
    assert balances_match_ledger(conn) == []


def test_a_missed_day_restarts_the_streak(conn):
    call(conn, "award_xp", "discord", "1", 1, "hello", "k0")
    conn.execute("UPDATE xp.users SET last_daily = (now() AT TIME ZONE 'UTC')::date - 2, streak = 5")
    row = call(conn, "claim_daily", "discord", "1")
    assert (row["streak"], row["coins_awarded"]) == (1, 50)


def test_daily_rewards_follow_settings(conn):
    conn.execute("UPDATE xp.settings SET value = '300' WHERE key = 'daily.xp'")
    row = call(conn, "claim_daily", "discord", "1")
    assert (row["xp"], row["new_rank"], row["rank_changed"], row["reward_coins"]) == (300, 2, True, 50)
    assert row["coins"] == 50 + 50


def test_invalid_platform_is_xp002(conn):
    with pytest.raises(Exception) as err:
        call(conn, "claim_daily", "irc", "1")
    assert getattr(err.value, "sqlstate", None) == "XP002"
