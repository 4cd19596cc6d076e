"""Reconcile, thresholds, live settings, admin changes, privacy deletion, cleanup, stats, imports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.clock import pass_days
from tests.helpers import assert_consistent, balances_match_ledger, call, ledger_rows, scalar


def findings(conn, dry_run=False, uid=None):
    if uid is None:
        rows = conn.execute("SELECT * FROM xp.reconcile_all(%s)", (dry_run,)).fetchall()
    else:
        rows = conn.execute("SELECT * FROM xp.reconcile_user(%s, %s)", (uid, dry_run)).fetchall()
    return sorted((r["user_id"], r["check_name"], r["expected"], r["actual"], r["fixed"]) for r in rows)


def snapshot(conn):
    return [conn.execute(f"SELECT * FROM xp.{t} ORDER BY 1").fetchall() for t in ("users", "ledger", "deliveries")]


def person(conn, platform, external_id, xp):
    return call(conn, "award_xp", platform, external_id, xp, "seed", f"seed-{platform}-{external_id}")["user_id"]


# --- reconcile -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("damage", "check", "expected", "actual"), [
    ("UPDATE xp.users SET xp = xp + 7", "balance_xp", "300", "307"),
    ("UPDATE xp.users SET coins = coins - 1", "balance_coins", "50", "49"),
    ("UPDATE xp.users SET rank_id = 1", "rank", "2", "1"),
    ("UPDATE xp.users SET rank_ceil = 999", "rank_bounds", "bounds of rank 2", "stale bounds"),
    ("UPDATE xp.users SET rewarded_rank = 1", "rank_rewards", "paid up to rank 2", "paid up to rank 1"),
])
def test_reconcile_finds_and_fixes_each_kind_of_drift(conn, damage, check, expected, actual):
    uid = person(conn, "telegram", "1", 300)
    person(conn, "telegram", "2", 10)
    conn.execute(damage + " WHERE id = %s", (uid,))
    before = snapshot(conn)
    assert findings(conn, dry_run=True) == [(uid, check, expected, actual, False)]
    assert snapshot(conn) == before  # a dry run writes nothing
    assert findings(conn) == [(uid, check, expected, actual, True)]
    assert findings(conn) == []
    assert_consistent(conn)


def test_a_missing_rank_reward_is_paid_through_the_ledger(conn):
    uid = person(conn, "telegram", "1", 300)
    conn.execute("UPDATE xp.users SET rewarded_rank = 1 WHERE id = %s", (uid,))
    conn.execute("ALTER TABLE xp.ledger DISABLE TRIGGER ledger_no_delete")
    conn.execute("DELETE FROM xp.ledger WHERE reason LIKE 'rank reward%%'")  # set-up: the payment went missing
    conn.execute("ALTER TABLE xp.ledger ENABLE TRIGGER ledger_no_delete")
    conn.execute("DELETE FROM xp.family_rewards WHERE reward LIKE 'rank:%%'")  # and its record
    conn.execute("UPDATE xp.users SET coins = 0")
    assert [f[1] for f in findings(conn)] == ["rank_rewards"]
    assert scalar(conn, "SELECT coins FROM xp.users") == 50
    assert_consistent(conn)


def test_reconcile_re_queues_stuck_deliveries(conn, connect):
    uid = person(conn, "discord", "1", 300)
    conn.execute("UPDATE xp.deliveries SET lease_owner = 'dead-host', attempts = 1, "
                 "run_at = now() - interval '11 minutes'")
    listener = connect()
    listener.execute("LISTEN xp_discord")
    found = findings(conn)
    assert [(f[0], f[1], f[4]) for f in found] == [(uid, "stuck_delivery", True)]
    assert "lease held by dead-host" in found[0][3]
    row = conn.execute("SELECT lease_owner, run_at <= now() AS due FROM xp.deliveries").fetchone()
    assert row == {"lease_owner": None, "due": True}
    assert [n.channel for n in listener.notifies(timeout=2, stop_after=1)] == ["xp_discord"]


def test_reconcile_queues_roles_for_people_never_synced(conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2')")
    uid = person(conn, "discord", "1", 300)
    person(conn, "discord", "2", 10)  # rank 1: no role to give
    conn.execute("UPDATE xp.deliveries SET status = 'dead'")  # the rank-up never reached Discord
    assert findings(conn, dry_run=True) == [(uid, "discord_roles", "roles of rank 2", "never applied", False)]
    assert findings(conn) == [(uid, "discord_roles", "roles of rank 2", "never applied", True)]
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE status = 'pending'") == 1
    assert findings(conn) == []  # the resync is waiting


def test_an_acked_discord_delivery_marks_the_rank_synced(conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2')")
    person(conn, "discord", "1", 300)
    d = conn.execute("SELECT * FROM xp.claim_deliveries('discord', 'me')").fetchone()
    conn.execute("SELECT xp.ack_deliveries('me', %s, %s)", ([d["id"]], [d["attempts"]]))
    assert scalar(conn, "SELECT roles_rank FROM xp.users") == 2
    assert findings(conn) == []


def test_reconcile_user_looks_at_one_person_only(conn):
    one = person(conn, "telegram", "1", 300)
    two = person(conn, "telegram", "2", 300)
    conn.execute("UPDATE xp.users SET xp = xp + 1")
    assert [f[0] for f in findings(conn, uid=one)] == [one]
    assert [f[0] for f in findings(conn)] == [two]
    with pytest.raises(psycopg.Error) as err:
        findings(conn, uid=999)
    assert err.value.sqlstate == "XP001"


@pytest.mark.parametrize("statement", [
    "SELECT * FROM xp.reconcile_all(NULL)", "SELECT * FROM xp.reconcile_user(1, NULL)",
])
def test_a_null_dry_run_flag_is_xp002_and_fixes_nothing(conn, statement):
    person(conn, "telegram", "1", 300)
    conn.execute("UPDATE xp.users SET xp = 1")
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement)
    assert err.value.sqlstate == "XP002" and "dry_run" in err.value.diag.message_primary
    assert scalar(conn, "SELECT xp FROM xp.users") == 1


# --- operator tables -----------------------------------------------------------------------------


def test_a_lower_threshold_moves_people_with_events_and_rewards(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    low = person(conn, "telegram", "1", 150)
    person(conn, "telegram", "2", 50)
    conn.execute("UPDATE xp.ranks SET min_xp = 100 WHERE id = 2")
    assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == ["ranks"]
    # both move: one up a rank, the other keeps rank 1 under a lower ceiling
    assert scalar(conn, "SELECT xp.rerank_batch(1)") == 1
    assert scalar(conn, "SELECT xp.rerank_batch(1000)") == 1
    assert scalar(conn, "SELECT xp.rerank_batch(1000)") == 0
    moved = conn.execute("SELECT rank_id, coins FROM xp.users WHERE id = %s", (low,)).fetchone()
    assert moved == {"rank_id": 2, "coins": 50}
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'rank_changed'") == 1
    assert_consistent(conn)


def test_a_higher_threshold_demotes_without_taking_rewards_back(conn):
    uid = person(conn, "telegram", "1", 300)
    conn.execute("UPDATE xp.ranks SET min_xp = 400 WHERE id = 2")
    while scalar(conn, "SELECT xp.rerank_batch(10)"):
        pass
    assert conn.execute("SELECT rank_id, coins FROM xp.users WHERE id = %s", (uid,)).fetchone() == {
        "rank_id": 1, "coins": 50}
    assert_consistent(conn)


@pytest.mark.parametrize("statement", [
    "UPDATE xp.ranks SET min_xp = 800 WHERE id = 2",  # above rank 3
    "UPDATE xp.ranks SET min_xp = 5 WHERE id = 1",  # nothing starts at 0
])
def test_a_broken_ladder_is_refused(conn, statement):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement)
    assert err.value.sqlstate == "XP002"
    assert scalar(conn, "SELECT min_xp FROM xp.ranks WHERE id = 2") == 255


def test_settings_changes_ring_xp_config(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    conn.execute("UPDATE xp.settings SET value = '30' WHERE key = 'message.cooldown_seconds'")
    assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == ["settings"]


def test_changing_the_role_mapping_resyncs_everyone_on_discord(conn):
    for i in range(3):
        person(conn, "discord", str(i), 10)
    person(conn, "telegram", "t", 10)
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2')")
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'discord'") == 3


# --- admin changes and privacy -------------------------------------------------------------------


def test_adjust_is_capped_audited_and_moves_the_rank(conn):
    uid = person(conn, "telegram", "1", 10)
    row = call(conn, "adjust", uid, "xp", 300, "tournament prize", "alice")
    assert (row["xp"], row["new_rank"], row["reward_coins"]) == (310, 2, 50)
    audit = conn.execute("SELECT reason, actor, platform FROM xp.ledger WHERE actor IS NOT NULL").fetchone()
    assert audit == {"reason": "admin: tournament prize", "actor": "alice", "platform": None}
    for args, state in [((uid, "xp", 10001, "r", "alice"), "XP002"), ((uid, "gold", 5, "r", "alice"), "XP002"),
                        ((uid, "xp", 5, "r", ""), "XP002"), ((uid, "xp", -400, "r", "alice"), "XP003"),
                        ((999, "xp", 5, "r", "alice"), "XP001")]:
        with pytest.raises(psycopg.Error) as err:
            call(conn, "adjust", *args)
        assert err.value.sqlstate == state, args
    conn.execute("UPDATE xp.settings SET value = '20000' WHERE key = 'admin.cap'")
    assert call(conn, "adjust", uid, "xp", 10001, "r", "alice")["applied"]


def test_forget_person_removes_every_trace_of_identity_but_keeps_the_numbers(conn):
    uid = person(conn, "telegram", "t1", 300)
    code = scalar(conn, "SELECT xp.create_link_code('telegram', 't1')")
    conn.execute("SELECT xp.redeem_link_code('discord', 'd1', %s)", (code,))
    call(conn, "record_voice", "discord", "d1", "s", 120)
    rows = ledger_rows(conn)
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.voice_sessions") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.link_codes") == 0
    assert conn.execute("SELECT display_name, notify FROM xp.users").fetchone() == {"display_name": None,
                                                                                  "notify": False}
    assert ledger_rows(conn) == rows and balances_match_ledger(conn) == []
    assert conn.execute("SELECT * FROM xp.leaderboard()").fetchall() == []
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT xp.profile('telegram', 't1')")
    assert err.value.sqlstate == "XP001"
    # the platform ids may come back: as new people with nothing
    assert call(conn, "award_xp", "telegram", "t1", 5, "r", "again")["xp"] == 5


def test_forget_person_leaves_no_platform_id_in_ledger_keys_or_reasons(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    call(conn, "award_xp", "telegram", "123456789", 300, "welcome @ivan_petrov 123456789", "tg:123456789:welcome")
    call(conn, "record_message", "telegram", "123456789", "-100987654321", "4242", 10)
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '123456789')")
    conn.execute("SELECT xp.redeem_link_code('discord', '555000111222333444', %s)", (code,))
    call(conn, "record_voice", "discord", "555000111222333444", "555000111222333444:2024-01-01T10:00", 120)
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = 'telegram'")
    call(conn, "adjust", uid, "coins", 5, "apology to @ivan_petrov", "alice")
    totals = conn.execute("SELECT kind, sum(delta) AS n FROM xp.ledger GROUP BY 1 ORDER BY 1").fetchall()
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    leaks = conn.execute(
        "SELECT idempotency_key, reason FROM xp.ledger WHERE idempotency_key ~ '123456789|555000111|987654321|4242'"
        " OR reason ~ '123456789|ivan|555000111'").fetchall()
    assert leaks == []
    assert conn.execute("SELECT kind, sum(delta) AS n FROM xp.ledger GROUP BY 1 ORDER BY 1").fetchall() == totals
    assert_consistent(conn)


@pytest.mark.parametrize("statement", [
    "SELECT * FROM xp.adjust(1, 'xp', 5, 'r', 'me')", "SELECT xp.forget_person(1)",
    "SELECT * FROM xp.reconcile_all()", "SELECT xp.cleanup()", "SELECT xp.stats()", "SELECT xp.resync_roles()",
    "SELECT * FROM xp.import_xp('discord', '1', 5, 0, 'mee6:g')",
])
def test_only_admins_may_call_admin_functions(conn, statement):
    person(conn, "telegram", "1", 10)
    for role in ("xp_bot", "xp_listener"):
        conn.execute(f"SET ROLE {role}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.execute("RESET ROLE")
    conn.execute("SET ROLE xp_admin")
    conn.execute(statement)


# --- cleanup and stats ---------------------------------------------------------------------------


def test_cleanup_removes_only_old_finished_deliveries_and_idempotency_windows(conn):
    for i in range(3):
        person(conn, "discord", str(i), 300)
    call(conn, "record_message", "discord", "0", "c", "m", 10)
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now() - interval '40 days' WHERE id = 1")
    conn.execute("UPDATE xp.deliveries SET status = 'failed', finished_at = now() - interval '1 day' WHERE id = 2")
    conn.execute("UPDATE xp.message_log SET created_at = now() - interval '40 days'")
    rows = ledger_rows(conn)
    assert scalar(conn, "SELECT xp.cleanup()") == 2  # one delivery, one message id
    assert [r["id"] for r in conn.execute("SELECT id FROM xp.deliveries ORDER BY id")] == [2, 3]
    assert ledger_rows(conn) == rows
    assert scalar(conn, "SELECT count(*) FROM xp.events") == 3
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT xp.cleanup('-1 day')")
    assert err.value.sqlstate == "XP002"


def test_cleanup_forgets_days_long_over_but_never_what_is_paid_once_ever(conn):
    call(conn, "claim_daily", "telegram", "1")
    call(conn, "award_xp", "telegram", "1", 300, "r", "k1")
    pass_days(conn, 40)
    assert scalar(conn, "SELECT xp.cleanup()") == 1
    assert [r["reward"] for r in conn.execute("SELECT reward FROM xp.family_rewards ORDER BY 1")] == ["rank:2"]
    assert call(conn, "claim_daily", "telegram", "1")["applied"]
    assert call(conn, "award_xp", "telegram", "1", -300, "r", "k2")["new_rank"] == 1
    assert call(conn, "award_xp", "telegram", "1", 300, "r", "k3")["reward_coins"] == 0


def test_stats_tell_the_health_of_the_system(conn):
    for i in range(3):
        person(conn, "discord", str(i), 300)
    conn.execute("UPDATE xp.deliveries SET status = 'failed', last_error = 'discord 403: Missing Permissions' "
                 "WHERE id <= 2")
    stats = scalar(conn, "SELECT xp.stats()")
    assert stats["deliveries"] == {"discord": {"failed": 2, "pending": 1}}
    assert stats["failures"] == [{"target": "discord", "status": "failed",
                                  "reason": "discord 403: Missing Permissions", "count": 2}]
    assert (stats["people"], stats["ledger_rows"], stats["awards_last_hour"]) == (3, 6, 6)
    assert set(stats["oldest_pending_seconds"]) == {"discord"}
    assert stats["notify_queue_usage"] == 0


# --- imports -------------------------------------------------------------------------------------


def test_import_applies_only_the_difference_from_earlier_imports(conn):
    first = call(conn, "import_xp", "discord", "1", 5000, 10, "mee6:g1", "Old Timer")
    assert (first["xp"], first["coins"]) == (5000, 10 + 50 + 100 + 150 + 200 + 250)
    assert call(conn, "import_xp", "discord", "1", 5000, 10, "mee6:g1")["xp"] == 5000
    rows = ledger_rows(conn)
    assert call(conn, "import_xp", "discord", "1", 5000, 10, "mee6:g1")["applied"] is False
    assert ledger_rows(conn) == rows
    assert call(conn, "import_xp", "discord", "1", 5600, 10, "mee6:g1")["xp"] == 5600
    call(conn, "award_xp", "discord", "1", 7, "chat", "own")  # earned here: untouched by imports
    assert call(conn, "import_xp", "discord", "1", 5600, 10, "mee6:g1")["xp"] == 5607
    assert_consistent(conn)


def test_an_award_whose_reason_reads_like_an_import_is_not_taken_for_one(conn):
    call(conn, "award_xp", "discord", "1", 100, "import: mee6:g1", "bot-key")
    row = call(conn, "import_xp", "discord", "1", 5000, 0, "mee6:g1")
    assert row["xp"] == 5100
    assert conn.execute("SELECT source, imported_from, sum(delta)::int AS xp FROM xp.ledger WHERE kind = 'xp' "
                        "GROUP BY 1, 2 ORDER BY 1").fetchall() == [
        {"source": "award", "imported_from": None, "xp": 100},
        {"source": "import", "imported_from": "mee6:g1", "xp": 5000}]


def test_an_import_sets_the_total_from_its_source_down_as_well_as_up(conn):
    for total in (5000, 6000, 5000, 6000, 0, 5000):
        row = call(conn, "import_xp", "discord", "1", total, 0, "mee6:g1")
        assert row["xp"] == total
    assert scalar(conn, "SELECT sum(delta) FROM xp.ledger WHERE source = 'import'") == 5000
    assert_consistent(conn)


def test_a_lower_total_takes_back_at_most_what_the_person_holds(conn):
    call(conn, "import_xp", "discord", "1", 5000, 0, "mee6:g1")
    call(conn, "award_xp", "discord", "1", -4800, "penalty", "p1")
    assert call(conn, "import_xp", "discord", "1", 100, 0, "mee6:g1")["xp"] == 0
    assert call(conn, "import_xp", "discord", "1", 100, 0, "mee6:g1")["applied"] is False  # and again: no error
    # it holds 4800 from the source now (5000, less the 200 it could give back): a total above that adds
    assert call(conn, "import_xp", "discord", "1", 300, 0, "mee6:g1")["applied"] is False
    assert call(conn, "import_xp", "discord", "1", 6000, 0, "mee6:g1")["xp"] == 1200
    assert_consistent(conn)


def test_a_big_total_is_one_ledger_row(conn):
    row = call(conn, "import_xp", "discord", "whale", 2_500_000, 0, "mee6:g1")
    assert row["xp"] == 2_500_000 and row["new_rank"] == 20
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE kind = 'xp'") == 1


@pytest.mark.parametrize("args", [(2**62, 0), (0, 10**12), (1_000_000_001, 0)])
def test_an_over_large_total_is_xp002_at_once(conn, args):
    with pytest.raises(psycopg.Error) as err:
        call(conn, "import_xp", "discord", "whale", *args, "mee6:g1")
    assert err.value.sqlstate == "XP002" and "1000000000" in err.value.diag.message_primary
    assert ledger_rows(conn) == 0 and scalar(conn, "SELECT count(*) FROM xp.accounts") == 0


def test_concurrent_imports_of_one_account_set_one_total(conn, connect):
    conns = [connect() for _ in range(6)]

    def load(i):
        for total in (1000, 3000, 2000):
            call(conns[i], "import_xp", "discord", "1", total + i, 0, "mee6:g1")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(load, range(6)))
    assert 2000 <= scalar(conn, "SELECT xp FROM xp.users") <= 2005
    assert_consistent(conn)
