"""What the website calls: boards with paging, search and privacy, places from board marks,
public profiles, linking by signing in, API keys."""

from __future__ import annotations

import random

import psycopg
import pytest

from tests.helpers import assert_consistent, call, ledger_rows, raises, scalar


def board(conn, period="all", lim=100, skip=0, prefix=None):
    return conn.execute("SELECT * FROM xp.leaderboard(%s, %s, %s, %s)", (lim, period, skip, prefix)).fetchall()


def exact_places(conn):
    """Every person on the all-time board and their place, counted the slow way."""
    return {r["id"]: r["place"] for r in conn.execute(
        "SELECT id, row_number() OVER (ORDER BY xp DESC, id) AS place FROM xp.users "
        "WHERE xp > 0 AND NOT hidden AND forgotten_at IS NULL")}


def place_of(conn, uid):
    return scalar(conn, "SELECT xp.public_profile(%s) -> 'place'", uid)


def people(conn, n, rng, ties=False):
    for i in range(n):
        amount = rng.choice([30, 30, 30, 60]) if ties else rng.randint(1, 5000)
        call(conn, "award_xp", "discord", str(i), amount, "r", f"k{i}", f"name {i}")


def test_hidden_people_are_left_out_of_every_board_and_places_renumber(conn):
    for i, amount in enumerate([500, 400, 300]):
        call(conn, "award_xp", "telegram", str(i), amount, "r", f"k{i}")
    assert [r["place"] for r in board(conn)] == [1, 2, 3]
    assert conn.execute("SELECT xp.set_privacy('telegram', '0', true) AS h").fetchone()["h"] is True
    rows = board(conn)
    assert [(r["place"], r["xp"]) for r in rows] == [(1, 400), (2, 300)]
    for period in ("week", "month"):
        assert [r["xp"] for r in board(conn, period)] == [400, 300]
    assert scalar(conn, "SELECT xp.board_size('all')") == 2
    assert place_of(conn, rows[1]["user_id"]) == 2
    conn.execute("SELECT xp.set_privacy('telegram', '0', false)")
    assert [r["xp"] for r in board(conn)] == [500, 400, 300]


def test_a_hidden_profile_is_seen_only_by_its_owner(conn):
    uid = call(conn, "award_xp", "discord", "1", 50, "r", "k1")["user_id"]
    other = call(conn, "award_xp", "discord", "2", 50, "r", "k2")["user_id"]
    conn.execute("SELECT xp.set_privacy('discord', '1', true)")
    assert scalar(conn, "SELECT xp.public_profile(%s)", uid) is None
    assert scalar(conn, "SELECT xp.public_profile(%s, %s)", uid, other) is None
    own = scalar(conn, "SELECT xp.public_profile(%s, %s)", uid, uid)
    assert own["hidden"] is True and own["place"] is None and own["places"]["week"] is None


def test_the_public_profile_names_no_external_id_language_or_notice_setting(conn):
    uid = call(conn, "award_xp", "discord", "secret-id-77", 300, "r", "k1", "Ann")["user_id"]
    conn.execute("SELECT xp.set_language('discord', 'secret-id-77', 'ru')")
    view = scalar(conn, "SELECT xp.public_profile(%s)", uid)
    assert view["platforms"] == ["discord"] and view["rank"]["id"] == 2 and view["next_rank"]["xp_remaining"] == 470
    text = str(view)
    assert "secret-id-77" not in text and "language" not in view and "notify" not in view
    assert len(view["activity"]) == 30 and view["activity"][-1]["xp"] == 300


def test_unknown_and_forgotten_people_have_no_public_profile(conn):
    uid = call(conn, "award_xp", "discord", "1", 50, "r", "k1")["user_id"]
    assert scalar(conn, "SELECT xp.public_profile(%s)", uid + 1000) is None
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    assert scalar(conn, "SELECT xp.public_profile(%s)", uid) is None


@pytest.mark.parametrize("ties", [False, True])
def test_places_from_board_marks_equal_the_counted_places(conn, ties):
    rng = random.Random(5)
    people(conn, 120, rng, ties)
    conn.execute("UPDATE xp.settings SET value = '10' WHERE key = 'places.stride'")
    assert scalar(conn, "SELECT xp.refresh_places(true)") is True
    assert scalar(conn, "SELECT count(*) FROM xp.board_marks WHERE board = 'all'") == 12
    expected = exact_places(conn)
    assert {uid: place_of(conn, uid) for uid in expected} == expected
    # the profile's week place agrees with the week board
    week = {r["user_id"]: r["place"] for r in board(conn, "week")}
    uid = rng.choice(list(week))
    assert scalar(conn, "SELECT xp.public_profile(%s) -> 'places' -> 'week'", uid) == week[uid]


def test_places_are_off_by_no_more_than_the_people_who_passed_a_mark_since_it_was_taken(conn):
    rng = random.Random(6)
    people(conn, 60, rng)
    conn.execute("UPDATE xp.settings SET value = '10' WHERE key = 'places.stride'")
    conn.execute("SELECT xp.refresh_places(true)")
    # the last person jumps to the top; the marks are not retaken
    last = max(exact_places(conn).items(), key=lambda kv: kv[1])[0]
    conn.execute("SELECT xp.adjust(%s, 'xp', 9000, 'r', 'me')", (last,))
    expected = exact_places(conn)
    found = {uid: place_of(conn, uid) for uid in expected}
    assert {uid: p for uid, p in found.items() if expected[uid] <= 10} == {
        uid: p for uid, p in expected.items() if p <= 10}
    assert all(abs(found[uid] - p) <= 1 for uid, p in expected.items())
    assert any(found[uid] != p for uid, p in expected.items())  # retaking the marks puts it right:
    conn.execute("SELECT xp.refresh_places(true)")
    assert {uid: place_of(conn, uid) for uid in expected} == expected


def test_refresh_places_skips_fresh_marks(conn):
    call(conn, "award_xp", "discord", "1", 50, "r", "k1")
    assert scalar(conn, "SELECT xp.refresh_places()") is True
    assert scalar(conn, "SELECT xp.refresh_places()") is False
    assert scalar(conn, "SELECT xp.refresh_places(true)") is True


def test_pages_deep_in_the_board_start_from_a_mark_and_match_the_whole_board(conn):
    rng = random.Random(7)
    people(conn, 150, rng, ties=True)
    whole = board(conn, lim=100) + board(conn, lim=100, skip=100)
    conn.execute("UPDATE xp.settings SET value = '10' WHERE key = 'places.stride'")
    conn.execute("SELECT xp.refresh_places(true)")
    for skip in (0, 6, 9, 10, 11, 50, 99, 120, 149):
        page = board(conn, lim=20, skip=skip)
        assert page == whole[skip:skip + 20], skip
    assert board(conn, lim=20, skip=150) == []
    assert board(conn, lim=20, skip=5000) == []


def test_search_finds_names_by_prefix_whatever_the_case_with_their_board_place(conn):
    for i, (name, amount) in enumerate([("Anna", 100), ("anton", 300), ("Boris", 200), ("Аня", 50), ("a_b", 10)]):
        call(conn, "award_xp", "telegram", str(i), amount, "r", f"k{i}", name)
    assert [(r["display_name"], r["place"]) for r in board(conn, prefix="AN")] == [("anton", 1), ("Anna", 3)]
    assert [r["display_name"] for r in board(conn, prefix="Ан")] == ["Аня"]
    # LIKE wildcards are literal
    assert [r["display_name"] for r in board(conn, prefix="a_")] == ["a_b"]
    assert board(conn, prefix="%") == []
    assert [r["display_name"] for r in board(conn, prefix="an", skip=1)] == ["Anna"]


@pytest.mark.parametrize("args, message", [
    ((0, "all", 0), "lim 0"), ((10, "all", -1), "skip -1"), ((10, "year", 0), "unknown period"),
    ((10, "season", 0), "no season"),
])
def test_board_refusals(conn, args, message):
    assert message in raises("XP002", conn, "SELECT * FROM xp.leaderboard(%s, %s, %s)", *args)


def test_privacy_follows_the_person_through_merges_and_unlinks(conn):
    call(conn, "award_xp", "discord", "d", 100, "r", "k1")
    call(conn, "award_xp", "telegram", "t", 100, "r", "k2")
    conn.execute("SELECT xp.set_privacy('telegram', 't', true)")
    uid = scalar(conn, "SELECT xp.link_accounts('discord', 'd', 'telegram', 't') -> 'user_id'")
    assert scalar(conn, "SELECT hidden FROM xp.users WHERE id = %s", uid) is True
    new = scalar(conn, "SELECT xp.unlink('telegram', 't')")
    assert scalar(conn, "SELECT hidden FROM xp.users WHERE id = %s", new) is True


def test_link_accounts_merges_as_a_link_code_does_and_a_dry_run_writes_nothing(conn):
    call(conn, "award_xp", "discord", "d", 300, "r", "k1")
    call(conn, "award_xp", "telegram", "t", 500, "r", "k2")
    rows, people_before = ledger_rows(conn), scalar(conn, "SELECT count(*) FROM xp.users")
    events = scalar(conn, "SELECT count(*) FROM xp.events")
    preview = scalar(conn, "SELECT xp.link_accounts('discord', 'd', 'telegram', 't', true)")
    assert preview["xp"] >= 800 and preview["platforms"] == ["discord", "telegram"]
    assert ledger_rows(conn) == rows and scalar(conn, "SELECT count(*) FROM xp.users") == people_before
    assert scalar(conn, "SELECT count(*) FROM xp.events") == events
    assert scalar(conn, "SELECT count(*) FROM xp.link_codes") == 0
    done = scalar(conn, "SELECT xp.link_accounts('discord', 'd', 'telegram', 't')")
    assert done["xp"] == preview["xp"] and done["coins"] == preview["coins"]
    assert scalar(conn, "SELECT count(*) FROM xp.users") == people_before - 1
    assert_consistent(conn)
    # the same refusals as link codes
    raises("XP006", conn, "SELECT xp.link_accounts('discord', 'd', 'telegram', 't', true)")
    call(conn, "award_xp", "telegram", "t2", 5, "r", "k3")
    assert "both have a telegram account" in raises("XP006", conn, "SELECT xp.link_accounts('discord', 'd', 'telegram', 't2')")


def test_link_accounts_needs_the_signed_in_account_to_exist(conn):
    raises("XP001", conn, "SELECT xp.link_accounts('discord', 'nobody', 'telegram', 't')")


def test_web_sign_in_creates_the_person_on_first_sight_and_refuses_other_platforms(conn):
    uid = scalar(conn, "SELECT xp.web_sign_in('discord', '42', 'Ann')")
    assert scalar(conn, "SELECT xp.web_sign_in('discord', '42', 'Ann')") == uid
    assert scalar(conn, "SELECT xp.account_person('discord', '42')") == uid
    assert scalar(conn, "SELECT xp.account_person('discord', '43')") is None
    raises("XP002", conn, "SELECT xp.web_sign_in('website', '1')")
    raises("XP002", conn, "SELECT xp.account_person('myspace', '1')")


def test_api_keys_are_shown_once_kept_hashed_and_revocable(conn):
    key = scalar(conn, "SELECT xp.create_api_key('giveaways')")
    assert key.startswith("xpk_") and len(key) == 68
    assert scalar(conn, "SELECT count(*) FROM xp.api_keys WHERE position(convert_to(%s, 'UTF8') in key_hash) > 0",
                  key) == 0
    assert scalar(conn, "SELECT xp.api_key_name(%s)", key) == "giveaways"
    assert scalar(conn, "SELECT xp.api_key_name(%s)", key + "x") is None
    assert scalar(conn, "SELECT xp.api_key_name(NULL)") is None
    assert "exists already" in raises("XP002", conn, "SELECT xp.create_api_key('giveaways')")
    assert scalar(conn, "SELECT xp.revoke_api_key('giveaways')") is True
    assert scalar(conn, "SELECT xp.revoke_api_key('giveaways')") is False
    assert scalar(conn, "SELECT xp.api_key_name(%s)", key) is None


def test_web_settings_and_the_rank_ladder(conn):
    assert scalar(conn, "SELECT xp.web_settings()") == {"web.visibility": "public"}
    ladder = conn.execute("SELECT * FROM xp.rank_ladder()").fetchall()
    assert [r["min_xp"] for r in ladder][:3] == [0, 255, 770] and ladder[-1]["name"] == "S II"


def test_a_search_matching_thousands_walks_the_board_and_finds_the_same_people(conn):
    # more than 5 000 matching names take the other path: the board in order, each entry's names tested
    conn.execute("SELECT count(xp.award_xp('discord', g::text, 1 + (g * 37) % 500, 'r', 'k' || g, 'many ' || g)) "
                 "FROM generate_series(1, 5100) g")
    conn.execute("SELECT count(xp.award_xp('discord', 'f' || g, 1 + g, 'r', 'f' || g, 'few ' || g)) "
                 "FROM generate_series(1, 30) g")
    expected = conn.execute(
        "SELECT place, user_id, display_name, xp, rank_id FROM xp.leaderboard(100, 'all', 0) "
        "WHERE display_name LIKE 'many %'").fetchall()
    whole = {r["user_id"]: r["place"] for r in conn.execute(
        "SELECT id AS user_id, row_number() OVER (ORDER BY xp DESC, id) AS place FROM xp.users WHERE xp > 0")}
    found = board(conn, lim=20, prefix="MANY")
    assert [r["user_id"] for r in found] == [r["user_id"] for r in expected[:20]]
    assert all(r["place"] == whole[r["user_id"]] for r in found)
    assert [r["user_id"] for r in board(conn, lim=5, skip=20, prefix="many")] == [
        r["user_id"] for r in expected[20:25]]
    assert len(board(conn, lim=100, prefix="few")) == 30
    # the join settings the walk needs do not leak into the caller's session
    assert scalar(conn, "SELECT current_setting('enable_hashjoin')") == "on"
