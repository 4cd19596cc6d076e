"""design.md §13: 16 concurrent clients replaying the same 10 000 keys apply each exactly once."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import assert_consistent, ledger_rows, scalar

pytestmark = pytest.mark.slow  # 16 clients x 10 000 keys

CLIENTS = 16
KEYS = 10_000
PEOPLE = 200


def test_16_clients_replaying_10000_keys_apply_each_exactly_once(conn, connect):
    keys = [(f"replay-{i}", str(i % PEOPLE), 1 + i % 9, "xp" if i % 4 else "coins") for i in range(KEYS)]
    clients = [connect() for _ in range(CLIENTS)]

    def replay(client: int) -> int:
        c = clients[client]
        order = keys[:]
        random.Random(client).shuffle(order)
        applied = 0
        for key, who, amount, kind in order:  # one call, one transaction, as bots do
            row = c.execute(f"SELECT applied FROM xp.award_{kind}('discord', %s, %s, 'replay', %s)",
                            (who, amount, key)).fetchone()
            applied += row["applied"]
        return applied

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        applied = list(pool.map(replay, range(CLIENTS)))
    took = time.monotonic() - started
    print(f"\n{CLIENTS} clients x {KEYS} keys = {CLIENTS * KEYS} calls in {took:.1f}s: "
          f"{sum(applied)} applied, {CLIENTS * KEYS - sum(applied)} replays")
    assert sum(applied) == KEYS
    assert ledger_rows(conn) == KEYS
    assert scalar(conn, "SELECT sum(xp) FROM xp.users") == sum(a for _, _, a, k in keys if k == "xp")
    assert scalar(conn, "SELECT sum(coins) FROM xp.users") == sum(a for _, _, a, k in keys if k == "coins")
    assert_consistent(conn)
