"""Seasons and the week/month/season boards (design.md §2, §3): windows over the ledger kept as
per-period counters, at UTC boundaries, with deterministic ties and the asker's place."""

from __future__ import annotations

import random

import psycopg
import pytest

from tests.helpers import call, scalar


def board(conn, period, lim=100):
    return [(r["display_name"], r["xp"]) for r in
            conn.execute("SELECT * FROM xp.leaderboard(%s, %s)", (lim, period)).fetchall()]


def profile(conn, platform, external_id):
    return scalar(conn, "SELECT xp.profile(%s, %s)", platform, external_id)


def backdate(conn, key, interval):
    """Move one ledger row into the past (test set-up bypasses the append-only guard)."""
    conn.execute("ALTER TABLE xp.ledger DISABLE TRIGGER ledger_no_rewrite")
    conn.execute("UPDATE xp.ledger SET created_at = created_at - %s::interval WHERE idempotency_key = %s",
                 (interval, key))
    conn.execute("ALTER TABLE xp.ledger ENABLE TRIGGER ledger_no_rewrite")


def season_now(conn, name="S1", days_before=3, days_after=30):
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES "
                 "(%s, (now() AT TIME ZONE 'UTC')::date - %s, (now() AT TIME ZONE 'UTC')::date + %s)",
                 (name, days_before, days_after))


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
@pytest.mark.parametrize(("moment", "week", "month"), [
    ("2026-11-22 23:59:59.999+00", "2026-11-16", "2026-11-01"),  # Sunday night, UTC
    ("2026-11-23 00:00:00+00", "2026-11-23", "2026-11-01"),  # Monday 00:00 UTC starts a week
    ("2026-11-30 23:59:59.999+00", "2026-11-30", "2026-11-01"),
    ("2026-12-01 00:00:00+00", "2026-11-30", "2026-12-01"),  # a month starts inside a week
    ("2027-01-01 03:00:00+05", "2026-12-28", "2026-12-01"),  # still 2026 in UTC
])
def test_periods_follow_utc_whatever_the_session_time_zone(conn, zone, moment, week, month):
    conn.execute(f"SET TimeZone = '{zone}'")
    row = conn.execute("SELECT week::text, month::text FROM xp._periods(%s::timestamptz)", (moment,)).fetchone()
    assert (row["week"], row["month"]) == (week, month)


def test_a_season_runs_from_its_first_day_to_the_day_before_its_end(conn):
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('Winter', '2026-12-01', '2027-03-01')")
    season = scalar(conn, "SELECT id FROM xp.seasons")
    at = {m: scalar(conn, "SELECT season FROM xp._periods(%s::timestamptz)", m) for m in
          ["2026-11-30 23:59:59.999+00", "2026-12-01 00:00:00+00", "2027-02-28 23:59:59.999+00",
           "2027-03-01 00:00:00+00"]}
    assert list(at.values()) == [None, season, season, None]


def test_seasons_may_not_overlap_or_run_backwards(conn):
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('A', '2026-01-01', '2026-04-01')")
    with pytest.raises(psycopg.errors.ExclusionViolation):
        conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('B', '2026-03-31', '2026-06-01')")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('C', '2026-06-01', '2026-06-01')")
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('B', '2026-04-01', '2026-06-01')")


def test_the_season_board_without_a_running_season_says_so(conn):
    with pytest.raises(psycopg.Error) as err:
        board(conn, "season")
    assert err.value.sqlstate == "XP002"
    assert "no season is running" in err.value.diag.message_primary
    call(conn, "award_xp", "telegram", "1", 10, "r", "k")
    assert profile(conn, "telegram", "1")["season"] is None and profile(conn, "telegram", "1")["season_xp"] is None


def test_a_new_season_counts_the_ledger_since_its_first_day(conn):
    call(conn, "award_xp", "telegram", "1", 100, "r", "before", "Early")
    backdate(conn, "before", "10 days")  # earned before the season
    call(conn, "award_xp", "telegram", "1", 30, "r", "during")
    backdate(conn, "during", "2 days")  # earned inside it, before anyone declared it
    call(conn, "award_xp", "telegram", "2", 50, "r", "today", "Late")
    season_now(conn)  # declaring the season rebuilds everyone's season counter from the ledger
    assert board(conn, "season") == [("Late", 50), ("Early", 30)]
    call(conn, "award_xp", "telegram", "1", 25, "r", "after")
    assert board(conn, "season") == [("Early", 55), ("Late", 50)]
    p = profile(conn, "telegram", "1")
    assert (p["season_xp"], p["places"]["season"], p["season"]["name"]) == (55, 1, "S1")
    conn.execute("DELETE FROM xp.seasons")
    assert profile(conn, "telegram", "1")["season_xp"] is None


def test_a_new_week_starts_every_counter_at_zero(conn):
    call(conn, "award_xp", "discord", "1", 40, "r", "k1", "A")
    # as if this XP had been earned last week: the counters name last week
    conn.execute("UPDATE xp.users SET week_of = week_of - 7")
    assert board(conn, "week") == []
    assert profile(conn, "discord", "1")["week_xp"] == 0 and profile(conn, "discord", "1")["places"]["week"] is None
    call(conn, "award_xp", "discord", "1", 5, "r", "k2")
    assert board(conn, "week") == [("A", 5)]
    assert board(conn, "month") == [("A", 45)]


def test_ties_go_to_the_older_person_and_places_match_the_boards(conn):
    season_now(conn)
    rng = random.Random(7)
    for i in range(30):
        for n in range(rng.randint(1, 3)):
            call(conn, "award_xp", "telegram", str(i), rng.choice([5, 10, 15]), "r", f"k{i}-{n}", f"P{i:02}")
    for period in ("all", "week", "month", "season"):
        rows = conn.execute("SELECT * FROM xp.leaderboard(100, %s)", (period,)).fetchall()
        assert [(r["xp"], r["user_id"]) for r in rows] == sorted(((r["xp"], r["user_id"]) for r in rows),
                                                                 key=lambda t: (-t[0], t[1]))
        assert len({r["xp"] for r in rows}) < len(rows)  # there are ties to order
        for r in rows:
            p = profile(conn, "telegram", str(r["user_id"] - rows[0]["user_id"] + int(rows[0]["display_name"][1:])))
            assert p["user_id"] == r["user_id"]
            assert (p["place"] if period == "all" else p["places"][period]) == r["place"]


def test_imported_xp_counts_for_all_time_not_for_the_period_boards(conn):
    conn.execute("SELECT * FROM xp.import_xp('discord', '1', 5000, 0, 'mee6:g', 'Imported')")
    call(conn, "award_xp", "discord", "2", 10, "r", "k", "Active")
    assert board(conn, "all") == [("Imported", 5000), ("Active", 10)]
    assert board(conn, "week") == board(conn, "month") == [("Active", 10)]
    assert conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall() == []


def test_an_award_whose_reason_reads_like_an_import_counts_on_the_period_boards(conn):
    call(conn, "award_xp", "discord", "1", 40, "import: mee6:g", "k1", "Bot")
    assert board(conn, "week") == board(conn, "month") == [("Bot", 40)]
    assert conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall() == []


def test_a_merge_adds_up_this_periods_counters(conn):
    call(conn, "award_xp", "telegram", "t1", 30, "r", "k1", "T")
    call(conn, "award_xp", "discord", "d1", 12, "r", "k2", "D")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', 't1')")
    conn.execute("SELECT xp.redeem_link_code('discord', 'd1', %s)", (code,))
    linked_bonus = scalar(conn, "SELECT coalesce(sum(delta), 0) FROM xp.ledger WHERE reason LIKE 'achievement:%%' "
                                "AND kind = 'xp'")
    assert board(conn, "week") == [("T", 42 + linked_bonus)]
    assert conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall() == []


def test_penalties_count_against_the_period_and_reconcile_agrees(conn):
    call(conn, "award_xp", "discord", "1", 50, "r", "k1", "A")
    call(conn, "award_xp", "discord", "1", -20, "penalty", "k2")
    assert board(conn, "week") == [("A", 30)]
    conn.execute("UPDATE xp.users SET week_xp = 999")
    drift = conn.execute("SELECT * FROM xp.reconcile_all()").fetchall()
    assert [(d["check_name"], d["expected"], d["actual"]) for d in drift] == [("board_week", "30", "999")]
    assert board(conn, "week") == [("A", 30)]
