"""xp.record_voice: 3 XP per eligible minute, per session, increases only."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import call, ledger_rows, scalar


def voice(conn, seconds, session="s1", external_id="1"):
    return call(conn, "record_voice", "discord", external_id, session, seconds)


def test_whole_eligible_minutes_earn_xp(conn):
    row = voice(conn, 125)
    assert (row["xp"], row["applied"]) == (6, True)
    assert scalar(conn, "SELECT voice_seconds FROM xp.users") == 125


def test_a_later_report_of_the_same_session_awards_only_the_increase(conn):
    voice(conn, 125)
    row = voice(conn, 200)
    assert (row["xp"], row["applied"]) == (9, True)
    assert scalar(conn, "SELECT voice_seconds FROM xp.users") == 200
    assert ledger_rows(conn) == 2


def test_replayed_or_older_reports_change_nothing(conn):
    voice(conn, 200)
    assert voice(conn, 200)["applied"] is False
    assert voice(conn, 100)["applied"] is False
    assert (scalar(conn, "SELECT xp FROM xp.users"), ledger_rows(conn)) == (9, 1)
    assert scalar(conn, "SELECT voice_seconds FROM xp.users") == 200


def test_seconds_short_of_a_minute_are_kept_without_xp(conn):
    row = voice(conn, 59)
    assert (row["xp"], row["applied"]) == (0, False)
    assert voice(conn, 61)["xp"] == 3
    assert scalar(conn, "SELECT voice_seconds FROM xp.users") == 61


def test_sessions_are_independent(conn):
    voice(conn, 120, session="a")
    voice(conn, 120, session="b")
    assert scalar(conn, "SELECT xp FROM xp.users") == 12


@pytest.mark.parametrize(("seconds", "session"), [(0, "s"), (-5, "s"), (None, "s"), (1_000_001, "s"), (60, "")])
def test_invalid_reports_are_xp002(conn, seconds, session):
    with pytest.raises(psycopg.Error) as err:
        voice(conn, seconds, session=session)
    assert err.value.sqlstate == "XP002"
    assert scalar(conn, "SELECT count(*) FROM xp.voice_sessions") == 0
