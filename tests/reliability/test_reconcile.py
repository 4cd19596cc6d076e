"""Reconcile while the system runs (design.md §9): a write that commits while a reconcile fixes
the same person is never lost from the cached balance or the board counters, one person's
trouble never aborts the run for everyone, every fix leaves an audit row, and a dry run reports
exactly what the real run then fixes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from tests.helpers import assert_consistent, balances_match_ledger, call, scalar


def findings(conn, dry_run=False):
    rows = conn.execute("SELECT * FROM xp.reconcile_all(%s)", (dry_run,)).fetchall()
    return sorted((r["user_id"], r["check_name"], r["expected"], r["actual"]) for r in rows)


def wait_until_blocked(conn, pid, timeout=10.0):
    """Until the backend `pid` waits for a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scalar(conn, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", pid):
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited for a lock")


def test_a_purchase_committed_during_a_fix_is_not_lost_from_the_balance(conn, connect):
    uid = call(conn, "award_coins", "telegram", "1", 100, "prize", "k1")["user_id"]
    conn.execute("UPDATE xp.users SET coins = coins + 7 WHERE id = %s", (uid,))  # drift for reconcile to fix
    writer, reconciler = connect(), connect()
    pid = scalar(reconciler, "SELECT pg_backend_pid()")
    with ThreadPoolExecutor(1) as pool:
        with writer.transaction():
            call(writer, "award_coins", "telegram", "1", -100, "purchase", "k2")  # not committed yet
            running = pool.submit(findings, reconciler)
            wait_until_blocked(conn, pid)
        found = running.result(timeout=30)
    assert found == [(uid, "balance_coins", "0", "7")]
    assert scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", uid) == 0  # the purchase stands
    assert balances_match_ledger(conn) == []
    assert findings(conn) == []  # and the next run finds nothing (it used to abort for everyone)


def test_an_award_committed_during_a_fix_is_not_lost_from_the_boards(conn, connect):
    uid = call(conn, "award_xp", "telegram", "1", 100, "chat", "k1")["user_id"]
    conn.execute("UPDATE xp.users SET week_xp = 1, month_xp = 1 WHERE id = %s", (uid,))
    writer, reconciler = connect(), connect()
    pid = scalar(reconciler, "SELECT pg_backend_pid()")
    with ThreadPoolExecutor(1) as pool:
        with writer.transaction():
            call(writer, "award_xp", "telegram", "1", 50, "chat", "k2")
            running = pool.submit(findings, reconciler)
            wait_until_blocked(conn, pid)
        running.result(timeout=30)
    row = conn.execute("SELECT week_xp, month_xp FROM xp.users WHERE id = %s", (uid,)).fetchone()
    assert row == {"week_xp": 150, "month_xp": 150}
    assert findings(conn) == []


def test_one_person_that_cannot_be_fixed_never_stops_the_others(conn):
    bad = call(conn, "award_coins", "telegram", "1", 50, "prize", "k1")["user_id"]
    good = call(conn, "award_coins", "telegram", "2", 50, "prize", "k2")["user_id"]
    # a ledger that sums below zero (what a lost update let someone spend): no balance can say so
    conn.execute("ALTER TABLE xp.ledger DISABLE TRIGGER USER")
    conn.execute("INSERT INTO xp.ledger (user_id, source, kind, delta, reason, idempotency_key) "
                 "VALUES (%s, 'award', 'coins', -80, 'spent twice', 'k3')", (bad,))
    conn.execute("ALTER TABLE xp.ledger ENABLE TRIGGER USER")
    conn.execute("UPDATE xp.users SET coins = 49 WHERE id = %s", (good,))
    rows = conn.execute("SELECT * FROM xp.reconcile_all()").fetchall()
    assert sorted((r["user_id"], r["check_name"], r["expected"], r["actual"], r["fixed"]) for r in rows) == [
        (bad, "balance_coins", "-30", "50", False), (good, "balance_coins", "50", "49", True)]
    assert scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", good) == 50
    assert scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", bad) == 50  # left for a person to decide
    audit = conn.execute("SELECT user_id, check_name, fixed, error FROM xp.reconcile_log ORDER BY user_id").fetchall()
    assert [(a["user_id"], a["fixed"]) for a in audit] == [(bad, False), (good, True)]
    assert "below zero" in audit[0]["error"]


def test_reconcile_under_concurrent_writers_loses_nothing_and_fails_no_one(conn, connect):
    people = [str(i) for i in range(6)]
    for who in people:
        call(conn, "award_coins", "discord", who, 1000, "seed", f"seed-{who}")
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(i):
        c = connect()
        n = 0
        while not stop.is_set():
            who = people[(i + n) % len(people)]
            try:
                call(c, "award_coins", "discord", who, -1 if n % 2 else 2, "trade", f"w{i}-{n}")
                call(c, "award_xp", "discord", who, 3, "chat", f"x{i}-{n}")
            except psycopg.Error as exc:
                if not (exc.sqlstate or "").startswith("XP"):
                    errors.append(exc)
            n += 1

    def damage_and_reconcile():
        c = connect()
        for round_ in range(20):
            c.execute("UPDATE xp.users SET coins = coins + 5, week_xp = week_xp + 1 WHERE id %% 2 = %s",
                      (round_ % 2,))
            try:
                c.execute("SELECT * FROM xp.reconcile_all()").fetchall()
            except psycopg.Error as exc:
                errors.append(exc)

    with ThreadPoolExecutor(5) as pool:
        writers = [pool.submit(write, i) for i in range(4)]
        pool.submit(damage_and_reconcile).result(timeout=120)
        stop.set()
        for w in writers:
            w.result(timeout=30)
    assert errors == []
    assert findings(conn) == []  # every damage was put right, and no write was lost doing so
    assert_consistent(conn)


def test_every_fix_leaves_an_audit_row_naming_who_ran_it(conn):
    uid = call(conn, "award_xp", "telegram", "1", 300, "r", "k1")["user_id"]
    conn.execute("UPDATE xp.users SET xp = 1, rank_id = 1 WHERE id = %s", (uid,))
    conn.execute("SELECT * FROM xp.reconcile_all(dry_run => true)").fetchall()
    assert scalar(conn, "SELECT count(*) FROM xp.reconcile_log") == 0  # a dry run fixes and logs nothing
    fixed = findings(conn)
    audit = conn.execute("SELECT user_id, check_name, expected, actual, fixed, run_by FROM xp.reconcile_log").fetchall()
    assert sorted((a["user_id"], a["check_name"], a["expected"], a["actual"]) for a in audit) == fixed
    assert all(a["fixed"] and a["run_by"] == "postgres" for a in audit)


def test_a_dry_run_reports_exactly_what_the_real_run_then_fixes(conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2'), ('g1', 3, 'r3')")
    a = call(conn, "award_xp", "discord", "1", 300, "r", "k1")["user_id"]
    b = call(conn, "award_xp", "discord", "2", 900, "r", "k2")["user_id"]
    c = call(conn, "award_xp", "telegram", "3", 50, "r", "k3")["user_id"]
    conn.execute("UPDATE xp.deliveries SET status = 'done'")
    conn.execute("UPDATE xp.users SET roles_rank = rank_id")
    conn.execute("UPDATE xp.users SET xp = 1000 WHERE id = %s", (a,))  # a cache that says rank 3
    conn.execute("UPDATE xp.users SET coins = 0, week_xp = 0 WHERE id = %s", (b,))
    conn.execute("UPDATE xp.users SET messages = 100 WHERE id = %s", (c,))  # an achievement never unlocked
    dry = findings(conn, dry_run=True)
    assert {f[1] for f in dry} >= {"balance_xp", "balance_coins", "board_week", "achievements"}
    assert findings(conn) == dry
    assert findings(conn) == []
    assert_consistent(conn)
