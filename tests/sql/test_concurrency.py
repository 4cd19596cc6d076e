"""Many connections at once: each key applied exactly once, no double first sight or claim."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import balances_match_ledger, call, ledger_rows, scalar

CLIENTS = 16


def run_clients(connect, work):
    conns = [connect() for _ in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(work, range(CLIENTS), conns))


def test_replaying_the_same_keys_from_16_connections_applies_each_once(conn, connect):
    keys = [(f"k{i}", str(i % 25), 1 + i % 7) for i in range(600)]

    def replay(client, c):
        order = keys[:]
        random.Random(client).shuffle(order)
        return sum(call(c, "award_xp", "telegram", who, amount, "load", key)["applied"] for key, who, amount in order)

    applied = run_clients(connect, replay)
    assert sum(applied) == len(keys)
    assert ledger_rows(conn) == len(keys)
    assert scalar(conn, "SELECT sum(xp) FROM xp.users") == sum(amount for _, _, amount in keys)
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 25
    assert balances_match_ledger(conn) == []


def test_concurrent_first_sight_of_one_account_makes_one_person(conn, connect):
    run_clients(connect, lambda client, c: call(c, "award_xp", "discord", "new", 1, "hi", f"k{client}"))
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 1
    assert scalar(conn, "SELECT xp FROM xp.users") == CLIENTS


def test_concurrent_daily_claims_pay_once(conn, connect):
    call(conn, "award_xp", "telegram", "1", 1, "hi", "k0")
    results = run_clients(connect, lambda client, c: call(c, "claim_daily", "telegram", "1")["applied"])
    assert sum(results) == 1
    assert scalar(conn, "SELECT coins FROM xp.users") == 50


def test_concurrent_rank_ups_pay_the_reward_once(conn, connect):
    call(conn, "award_xp", "telegram", "1", 250, "hi", "k0")
    run_clients(connect, lambda client, c: call(c, "award_xp", "telegram", "1", 10, "hi", f"k{client + 1}"))
    assert scalar(conn, "SELECT coins FROM xp.users") == 50
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'rank_changed'") == 1
    assert balances_match_ledger(conn) == []
