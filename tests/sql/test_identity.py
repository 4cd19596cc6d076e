"""Linking (codes, redeem, lock-out, merges) and unlinking (design.md §2, §3)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.helpers import assert_consistent, call, ledger_rows, raises, scalar

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@pytest.fixture(autouse=True)
def _no_link_achievement(conn):
    """The linking mechanics on their own: the first-link achievement and its reward are
    tested with the other achievements (tests/sql/test_achievements.py)."""
    conn.execute("DELETE FROM xp.achievements WHERE criterion = 'platforms'")


def code_for(conn, platform, external_id):
    return scalar(conn, "SELECT xp.create_link_code(%s, %s)", platform, external_id)


def redeem(conn, platform, external_id, code):
    return scalar(conn, "SELECT xp.redeem_link_code(%s, %s, %s)", platform, external_id, code)


def link(conn, issuer=("telegram", "t1"), redeemer=("discord", "d1")):
    return redeem(conn, *redeemer, code_for(conn, *issuer))


def person_of(conn, platform, external_id):
    return scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = %s AND external_id = %s",
                  platform, external_id)


def user(conn, uid):
    return conn.execute("SELECT * FROM xp.users WHERE id = %s", (uid,)).fetchone()


# --- codes ---------------------------------------------------------------------------------------


def test_codes_are_8_unambiguous_characters_and_differ(conn):
    codes = {code_for(conn, "telegram", str(i)) for i in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(f"[{ALPHABET}]{{8}}", c) for c in codes)


def test_codes_are_stored_only_as_peppered_hashes(conn):
    code = code_for(conn, "telegram", "t1")
    row = conn.execute("SELECT * FROM xp.link_codes").fetchone()
    assert code.encode() not in b"".join(str(v).encode() for v in row.values())
    assert row["code_hash"] != scalar(conn, "SELECT sha256(convert_to(%s, 'UTF8'))", code)
    assert (row["expires_at"] - row["created_at"]).total_seconds() == 600


def test_a_new_code_retires_the_previous_one(conn):
    old = code_for(conn, "telegram", "t1")
    new = code_for(conn, "telegram", "t1")
    assert redeem(conn, "discord", "d1", old) is None
    assert redeem(conn, "discord", "d1", new) == person_of(conn, "telegram", "t1")


# --- redeem --------------------------------------------------------------------------------------


def test_redeem_makes_both_accounts_one_person(conn):
    call(conn, "award_xp", "telegram", "t1", 100, "r", "k1", "Ivan")
    tg = person_of(conn, "telegram", "t1")
    assert link(conn) == tg
    assert person_of(conn, "discord", "d1") == tg
    profile = scalar(conn, "SELECT xp.profile('discord', 'd1')")
    assert [a["platform"] for a in profile["accounts"]] == ["discord", "telegram"]
    assert profile["xp"] == 100
    event = conn.execute("SELECT kind, user_id FROM xp.events").fetchone()
    assert event == {"kind": "account_linked", "user_id": tg}
    assert [d["target"] for d in conn.execute("SELECT target FROM xp.deliveries")] == ["discord"]
    assert_consistent(conn)


@pytest.mark.parametrize("typed", [str.lower, lambda c: f" {c[:4]}-{c[4:]} ", lambda c: f"{c[:4]} {c[4:]}"])
def test_codes_are_case_insensitive_and_forgive_spaces_and_dashes(conn, typed):
    code = code_for(conn, "telegram", "t1")
    assert redeem(conn, "discord", "d1", typed(code)) == person_of(conn, "telegram", "t1")


def test_a_code_is_single_use_but_the_same_redeem_is_repeatable(conn):
    code = code_for(conn, "telegram", "t1")
    tg = person_of(conn, "telegram", "t1")
    assert redeem(conn, "discord", "d1", code) == tg
    assert redeem(conn, "discord", "d1", code) == tg
    assert redeem(conn, "discord", "d2", code) is None
    assert person_of(conn, "discord", "d2") != tg


def test_expired_and_unknown_codes_fail_alike(conn):
    code = code_for(conn, "telegram", "t1")
    conn.execute("UPDATE xp.link_codes SET expires_at = now() - interval '1 second'")
    assert redeem(conn, "discord", "d1", code) is None
    assert redeem(conn, "discord", "d1", "ZZZZZZZZ") is None
    assert redeem(conn, "discord", "d1", "x" * 10_000) is None
    assert scalar(conn, "SELECT count(*) FROM xp.redeem_failures") == 3
    assert person_of(conn, "discord", "d1") != person_of(conn, "telegram", "t1")


def test_five_failures_in_ten_minutes_lock_the_account_out(conn):
    good = code_for(conn, "telegram", "t1")
    for _ in range(5):
        assert redeem(conn, "discord", "d1", "WRONG123") is None
    message = raises("XP005", conn, "SELECT xp.redeem_link_code('discord', 'd1', %s)", good)
    assert "discord:d1" in message and "UTC" in message
    # another account is not locked, and the lock ends
    assert redeem(conn, "discord", "d2", "WRONG123") is None
    conn.execute("UPDATE xp.accounts SET redeem_locked_until = now() - interval '1 second'")
    assert redeem(conn, "discord", "d1", good) == person_of(conn, "telegram", "t1")


def test_old_failures_do_not_count_toward_the_lock_out(conn):
    for _ in range(4):
        redeem(conn, "discord", "d1", "WRONG123")
    conn.execute("UPDATE xp.redeem_failures SET created_at = now() - interval '11 minutes'")
    for _ in range(4):
        assert redeem(conn, "discord", "d1", "WRONG123") is None
    assert redeem(conn, "discord", "d1", code_for(conn, "telegram", "t1")) is not None


def test_redeeming_your_own_code_is_xp006(conn):
    code = code_for(conn, "telegram", "t1")
    raises("XP006", conn, "SELECT xp.redeem_link_code('telegram', 't1', %s)", code)


def test_a_person_never_holds_two_accounts_of_one_platform(conn):
    link(conn)  # t1 + d1
    code = code_for(conn, "discord", "d2")
    message = raises("XP006", conn, "SELECT xp.redeem_link_code('telegram', 't1', %s)", code)
    assert "discord" in message
    message = raises("XP006", conn, "SELECT xp.redeem_link_code('telegram', 't2', %s)", code_for(conn, "telegram", "t1"))
    assert "telegram" in message
    assert scalar(conn, "SELECT count(*) FROM xp.accounts WHERE user_id = %s", person_of(conn, "telegram", "t1")) == 2


def test_empty_code_is_xp002(conn):
    raises("XP002", conn, "SELECT xp.redeem_link_code('discord', 'd1', '')")


# --- merging two persons with progress -----------------------------------------------------------


def test_merge_sums_ledgers_stats_and_pays_only_new_rank_rewards(conn):
    call(conn, "award_xp", "telegram", "t1", 300, "r", "t-1")  # rank 2, reward 50
    call(conn, "award_coins", "telegram", "t1", 20, "r", "t-2")
    call(conn, "record_message", "telegram", "t1", "c", "m1", 10)
    call(conn, "award_xp", "discord", "d1", 600, "r", "d-1")  # rank 2, reward 50
    call(conn, "record_voice", "discord", "d1", "s", 130)
    tg, dc = person_of(conn, "telegram", "t1"), person_of(conn, "discord", "d1")
    conn.execute("UPDATE xp.users SET streak = 4 WHERE id = %s", (dc,))
    t_rows, d_rows = (scalar(conn, "SELECT count(*) FROM xp.ledger WHERE user_id = %s", u) for u in (tg, dc))
    tg_xp = user(conn, tg)["xp"]

    assert link(conn) == tg
    merged = user(conn, tg)
    assert user(conn, dc) is None
    assert merged["xp"] == tg_xp + 606
    assert merged["rank_id"] == 3  # 770 <= xp
    assert merged["coins"] == 50 + 20 + 50 + 100  # both rank-2 rewards stay, rank 3 paid once
    assert merged["rewarded_rank"] == 3
    assert (merged["messages"], merged["voice_seconds"], merged["streak"]) == (1, 130, 4)
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE user_id = %s", tg) == t_rows + d_rows + 1
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE user_id = %s", dc) == 0
    audit = conn.execute("SELECT from_user, into_user, from_xp FROM xp.merges").fetchone()
    assert audit == {"from_user": dc, "into_user": tg, "from_xp": 606}
    kinds = [e["kind"] for e in conn.execute("SELECT kind FROM xp.events ORDER BY id")]
    assert kinds[-2:] == ["rank_changed", "persons_merged"]
    assert_consistent(conn)


def test_merge_never_repays_ranks_either_side_reached(conn):
    call(conn, "award_xp", "telegram", "t1", 2900, "r", "t-1")  # rank 5
    call(conn, "award_xp", "discord", "d1", 1800, "r", "d-1")  # rank 4
    rewards_before = scalar(conn, "SELECT sum(delta) FROM xp.ledger WHERE reason LIKE 'rank reward%%'")
    link(conn)
    merged = user(conn, person_of(conn, "telegram", "t1"))
    assert merged["rank_id"] == 6  # 4700 xp: E III starts at 4675
    paid = scalar(conn, "SELECT sum(delta) FROM xp.ledger WHERE reason LIKE 'rank reward%%'") - rewards_before
    assert paid == 250  # rank 6 only
    assert_consistent(conn)


def test_the_survivor_is_the_older_person(conn):
    call(conn, "award_xp", "discord", "d1", 10, "r", "d-1")
    call(conn, "award_xp", "telegram", "t1", 10, "r", "t-1")
    older = person_of(conn, "discord", "d1")
    assert link(conn, issuer=("telegram", "t1"), redeemer=("discord", "d1")) == older


def test_pending_deliveries_follow_the_merged_person(conn):
    call(conn, "award_xp", "discord", "d1", 300, "r", "d-1")  # a pending rank_changed delivery
    link(conn)
    tg = person_of(conn, "telegram", "t1")
    assert {d["user_id"] for d in conn.execute("SELECT user_id FROM xp.deliveries WHERE status = 'pending'")} == {tg}


# --- one daily claim and one cooldown across the merged person -----------------------------------


def test_a_claim_binds_every_account_the_person_holds_that_day(conn):
    assert call(conn, "claim_daily", "telegram", "t1")["applied"]
    link(conn)
    assert call(conn, "claim_daily", "discord", "d1")["applied"] is False


def test_a_claim_made_before_linking_binds_the_merged_person(conn):
    assert call(conn, "claim_daily", "discord", "d1")["applied"]
    call(conn, "award_xp", "telegram", "t1", 1, "r", "t-1")
    link(conn)
    assert call(conn, "claim_daily", "telegram", "t1")["applied"] is False


def test_message_cooldown_spans_both_platforms(conn):
    link(conn)
    assert call(conn, "record_message", "telegram", "t1", "c", "m1", 10)["applied"]
    assert call(conn, "record_message", "discord", "d1", "c", "m1", 10)["applied"] is False


# --- unlinking -----------------------------------------------------------------------------------


def test_unlink_takes_the_account_away_with_nothing(conn):
    call(conn, "award_xp", "telegram", "t1", 300, "r", "t-1")
    link(conn)
    tg = person_of(conn, "telegram", "t1")
    new = scalar(conn, "SELECT xp.unlink('discord', 'd1')")
    assert new != tg and person_of(conn, "discord", "d1") == new
    fresh = scalar(conn, "SELECT xp.profile('discord', 'd1')")
    assert (fresh["xp"], fresh["coins"], fresh["rank"]["id"]) == (0, 0, 1)
    assert [a["platform"] for a in fresh["accounts"]] == ["discord"]
    kept = scalar(conn, "SELECT xp.profile('telegram', 't1')")
    assert (kept["xp"], kept["coins"]) == (300, 50)
    assert [a["platform"] for a in kept["accounts"]] == ["telegram"]
    events = conn.execute("SELECT kind, user_id FROM xp.events WHERE kind = 'account_unlinked' ORDER BY id").fetchall()
    assert {e["user_id"] for e in events} == {new, tg}
    assert_consistent(conn)


def test_the_only_account_cannot_be_unlinked(conn):
    call(conn, "award_xp", "telegram", "t1", 10, "r", "t-1")
    message = raises("XP007", conn, "SELECT xp.unlink('telegram', 't1')")
    assert "telegram:t1" in message


def test_unlinking_an_unknown_account_is_xp001(conn):
    raises("XP001", conn, "SELECT xp.unlink('telegram', 'nobody')")


def test_link_unlink_cycles_farm_nothing(conn):
    call(conn, "award_xp", "telegram", "t1", 300, "r", "t-1")  # rank 2 and its reward
    assert call(conn, "claim_daily", "telegram", "t1")["applied"]
    tg = person_of(conn, "telegram", "t1")
    before = user(conn, tg)
    rows = ledger_rows(conn)
    for _ in range(3):
        link(conn)
        scalar(conn, "SELECT xp.unlink('discord', 'd1')")
        # the fresh person of d1 may not claim again today
        assert call(conn, "claim_daily", "discord", "d1")["applied"] is False
    assert ledger_rows(conn) == rows
    assert (user(conn, tg)["xp"], user(conn, tg)["coins"]) == (before["xp"], before["coins"])
    # earning rank 2 again after an unlink pays no second reward, before or after relinking
    again = call(conn, "award_xp", "discord", "d1", 300, "r", "d-again")
    assert (again["new_rank"], again["reward_coins"]) == (2, 0)
    link(conn)
    merged = user(conn, tg)
    assert (merged["xp"], merged["coins"]) == (before["xp"] + 300, before["coins"])
    assert_consistent(conn)


def test_a_replay_through_an_unlinked_account_shows_the_accounts_own_person(conn):
    call(conn, "award_xp", "telegram", "t1", 500, "r", "t-1")
    link(conn)
    call(conn, "award_xp", "discord", "d1", 40, "r", "d-1")  # paid to the linked person
    scalar(conn, "SELECT xp.unlink('discord', 'd1')")
    replay = call(conn, "award_xp", "discord", "d1", 40, "r", "d-1")
    assert replay["applied"] is False
    assert (replay["user_id"], replay["xp"]) == (person_of(conn, "discord", "d1"), 0)  # not the other's 540


def test_unlinking_the_issuer_side_also_starts_over(conn):
    call(conn, "award_xp", "discord", "d1", 100, "r", "d-1")
    link(conn)  # the survivor is the older discord person
    new = scalar(conn, "SELECT xp.unlink('telegram', 't1')")
    assert scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", new) == 0
    assert_consistent(conn)


# --- concurrency ---------------------------------------------------------------------------------


def test_two_redeems_of_one_code_at_once_exactly_one_wins(conn, connect):
    code = code_for(conn, "telegram", "t1")
    for _ in range(5):
        conns = [connect(), connect()]
        start = threading.Barrier(2)

        def attempt(i, c=None, conns=conns):
            start.wait()
            return redeem(conns[i], "discord", f"racer-{i}-{code}", code)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(attempt, range(2)))
        assert sorted(r is None for r in results) == [False, True]
        winner = next(i for i, r in enumerate(results) if r is not None)
        scalar(conn, "SELECT xp.unlink('discord', %s)", f"racer-{winner}-{code}")
        code = code_for(conn, "telegram", "t1")
    assert_consistent(conn)


def test_awards_racing_a_merge_all_land_on_the_merged_person(conn, connect):
    call(conn, "award_xp", "telegram", "t1", 1, "r", "t-0")
    call(conn, "award_xp", "discord", "d1", 1, "r", "d-0")
    code = code_for(conn, "telegram", "t1")
    stop = threading.Event()
    writers = [connect() for _ in range(6)]
    errors: list[BaseException] = []

    def award(i):
        n = 0
        while not stop.is_set() or n < 20:
            platform, who = ("discord", "d1") if i % 2 else ("telegram", "t1")
            try:
                call(writers[i], "award_xp", platform, who, 1, "race", f"race-{i}-{n}")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                return
            n += 1

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(award, i) for i in range(6)]
        assert redeem(connect(), "discord", "d1", code) is not None
        stop.set()
        for f in futures:
            f.result()
    assert errors == []
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 1
    assert scalar(conn, "SELECT xp FROM xp.users") == ledger_sum_xp(conn)
    assert_consistent(conn)


def ledger_sum_xp(conn):
    return scalar(conn, "SELECT sum(delta) FROM xp.ledger WHERE kind = 'xp'")
