"""xp.profile and xp.leaderboard."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import call


def profile(conn, platform, external_id):
    return conn.execute("SELECT xp.profile(%s, %s) AS p", (platform, external_id)).fetchone()["p"]


def board(conn, lim=10, period="all"):
    return conn.execute("SELECT * FROM xp.leaderboard(%s, %s)", (lim, period)).fetchall()


def test_profile_shows_rank_progress_accounts_and_place(conn):
    call(conn, "award_xp", "telegram", "1", 1000, "r", "a", "Big")
    call(conn, "award_xp", "telegram", "2", 300, "r", "b", "Ivan")
    p = profile(conn, "telegram", "2")
    assert p["xp"] == 300 and p["coins"] == 50
    assert p["display_name"] == "Ivan"
    assert p["rank"] == {
        "id": 2, "name": "F II", "tier": "F", "stars": 2, "color": "#9E9E9E", "emoji": "🌱", "min_xp": 255,
    }
    assert p["next_rank"] == {"id": 3, "name": "F III", "min_xp": 770, "xp_remaining": 470}
    assert p["accounts"] == [{"platform": "telegram", "external_id": "2", "display_name": "Ivan"}]
    assert p["place"] == 2
    assert p["stats"] == {"messages": 0, "voice_seconds": 0, "games_won": 0}
    assert (p["streak"], p["language"], p["notify"]) == (0, "en", True)


def test_profile_at_the_top_rank_has_no_next_rank(conn):
    call(conn, "award_xp", "discord", "1", 130000, "r", "a")
    assert profile(conn, "discord", "1")["next_rank"] is None


def test_profile_of_an_unknown_account_is_xp001(conn):
    with pytest.raises(psycopg.Error) as err:
        profile(conn, "telegram", "404")
    assert err.value.sqlstate == "XP001"
    assert "telegram:404" in err.value.diag.message_primary


def test_profile_with_an_unknown_platform_is_xp002(conn):
    with pytest.raises(psycopg.Error) as err:
        profile(conn, "myspace", "1")
    assert err.value.sqlstate == "XP002"


def test_leaderboard_orders_by_xp_then_seniority(conn):
    for name, amount in [("a", 50), ("b", 80), ("c", 50), ("d", 10)]:
        call(conn, "award_xp", "discord", name, amount, "r", f"k-{name}", name.upper())
    call(conn, "award_coins", "discord", "e", 5, "r", "k-e")  # no XP: not on the board
    rows = board(conn)
    assert [(r["place"], r["display_name"], r["xp"]) for r in rows] == [
        (1, "B", 80), (2, "A", 50), (3, "C", 50), (4, "D", 10),
    ]
    assert [r["display_name"] for r in board(conn, lim=2)] == ["B", "A"]
    assert profile(conn, "discord", "c")["place"] == 3


def test_week_and_month_boards_count_only_their_window(conn):
    call(conn, "award_xp", "discord", "old", 500, "r", "k-old", "Old")
    call(conn, "award_xp", "discord", "new", 40, "r", "k-new", "New")
    # the veteran's XP was earned long ago (test set-up bypasses the append-only guard)
    conn.execute("ALTER TABLE xp.ledger DISABLE TRIGGER ledger_no_rewrite")
    conn.execute("UPDATE xp.ledger SET created_at = now() - interval '40 days' WHERE idempotency_key = 'k-old'")
    conn.execute("ALTER TABLE xp.ledger ENABLE TRIGGER ledger_no_rewrite")
    call(conn, "award_xp", "discord", "old", 5, "r", "k-old-2")
    # the counters the boards read were moved by the awards; reconcile rebuilds them from the ledger's times
    fixed = conn.execute("SELECT check_name FROM xp.reconcile_all() WHERE check_name LIKE 'board_%'").fetchall()
    assert {r["check_name"] for r in fixed} == {"board_week", "board_month"}
    for period in ("week", "month"):
        assert [(r["display_name"], r["xp"]) for r in board(conn, period=period)] == [("New", 40), ("Old", 5)]
    assert [r["display_name"] for r in board(conn)] == ["Old", "New"]


@pytest.mark.parametrize(("lim", "period", "names"), [(0, "all", "lim 0"), (101, "all", "lim 101"),
                                                      (None, "all", "lim NULL"), (10, "year", "'year'")])
def test_leaderboard_rejects_bad_arguments(conn, lim, period, names):
    with pytest.raises(psycopg.Error) as err:
        board(conn, lim, period)
    assert err.value.sqlstate == "XP002"
    assert names in err.value.diag.message_primary
