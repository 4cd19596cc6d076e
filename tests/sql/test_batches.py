"""xp.award_many and xp.record_messages: each item is the single call, one result per item, an item's
XP00x refusal reported in its row while the others apply."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import assert_consistent, balances_match_ledger, call, ledger_rows, raises, scalar


def award(external_id: str, amount: object, key: str, platform: str = "discord", **extra: object) -> dict:
    return {"platform": platform, "external_id": external_id, "amount": amount, "reason": "r",
            "idempotency_key": key, **extra}


def many(conn, items) -> list[dict]:
    return conn.execute("SELECT * FROM xp.award_many(%s)", (Jsonb(items),)).fetchall()


def messages(conn, items) -> list[dict]:
    return conn.execute("SELECT * FROM xp.record_messages(%s)", (Jsonb(items),)).fetchall()


def test_each_item_gets_the_result_the_single_call_would_give_in_the_order_of_the_array(conn):
    rows = many(conn, [award("2", 10, "a"), award("1", 5, "b", display_name="Ann"), award("2", 7, "c")])
    assert [r["item"] for r in rows] == [1, 2, 3]
    assert [(r["xp"], r["applied"], r["error_code"]) for r in rows] == [(10, True, None), (5, True, None),
                                                                          (17, True, None)]
    assert rows[0]["user_id"] == rows[2]["user_id"] != rows[1]["user_id"]
    assert scalar(conn, "SELECT display_name FROM xp.users WHERE id = %s", rows[1]["user_id"]) == "Ann"
    # the same keys again: replays, exactly as award_xp replays them
    again = many(conn, [award("2", 10, "a"), award("1", 5, "b")])
    assert [(r["xp"], r["applied"]) for r in again] == [(17, False), (5, False)]
    assert call(conn, "award_xp", "discord", "2", 7, "r", "c")["applied"] is False
    assert ledger_rows(conn) == 3 and balances_match_ledger(conn) == []


def test_a_refused_item_is_reported_in_its_row_and_the_others_apply(conn):
    call(conn, "award_xp", "discord", "1", 50, "r", "used")
    rows = many(conn, [
        award("1", 10, "ok-1"),
        award("1", -1000, "too-much"),            # XP003: below zero
        award("2", 10, "used"),                   # XP004: the key was someone else's
        award("1", 0, "zero"),                    # XP002: amount
        award("1", "ten", "text"),                # XP002: not an integer
        award("1", 10, "x" * 201),                # XP002: key too long
        award("9", 10, "ok-2", platform="myspace"),  # XP002: platform
        "not an object",                          # XP002
        award("1", 10, "ok-3"),
    ])
    assert [r["error_code"] for r in rows] == [None, "XP003", "XP004", "XP002", "XP002", "XP002", "XP002",
                                               "XP002", None]
    assert all(r["error"] for r in rows if r["error_code"]) and "ten" in rows[4]["error"]
    assert [r["applied"] for r in rows] == [True] + [False] * 7 + [True]
    assert rows[-1]["xp"] == 70 and rows[1]["user_id"] is None
    # nothing of a refused item was written: one person (and account) for "1", none for "2" or "9"
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 1
    assert ledger_rows(conn) == 3
    assert_consistent(conn)


@pytest.mark.parametrize("batch", [None, {"platform": "discord"}, "[]x", 5])
def test_a_batch_that_is_not_an_array_is_xp002_naming_it(conn, batch):
    value = None if batch is None else Jsonb(batch)
    assert "JSON array" in raises("XP002", conn, "SELECT * FROM xp.award_many(%s)", value)


def test_a_batch_larger_than_1000_items_is_refused_whole(conn):
    assert "at most 1000" in raises("XP002", conn, "SELECT * FROM xp.award_many(%s)",
                                    Jsonb([award(str(i), 1, f"k{i}") for i in range(1001)]))
    assert ledger_rows(conn) == 0


def test_an_empty_batch_returns_no_rows(conn):
    assert many(conn, []) == []


def test_messages_in_a_batch_follow_the_single_call_rules(conn):
    rows = messages(conn, [
        {"platform": "telegram", "external_id": "1", "chat_id": "c", "message_id": "m1", "length": 20},
        {"platform": "telegram", "external_id": "1", "chat_id": "c", "message_id": "m2", "length": 20},  # cooldown
        {"platform": "telegram", "external_id": "2", "chat_id": "c", "message_id": "m3", "length": 1},   # short
        {"platform": "telegram", "external_id": "3", "chat_id": "c", "message_id": "m4", "length": -1},  # XP002
        {"platform": "telegram", "external_id": "4", "chat_id": "c", "message_id": "m1", "length": 20},  # same id
        {"platform": "telegram", "external_id": "5", "chat_id": "c", "message_id": "m5", "length": 20},
    ])
    assert [(r["applied"], r["error_code"]) for r in rows] == [(True, None), (False, None), (False, None),
                                                                (False, "XP002"), (False, None), (True, None)]
    assert 15 <= rows[0]["xp"] <= 25 and rows[1]["xp"] == rows[0]["xp"]
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE source = 'message'") == 2
    # the same messages once more count nothing
    again = messages(conn, [{"platform": "telegram", "external_id": "5", "chat_id": "c", "message_id": "m5",
                             "length": 20}])
    assert again[0]["applied"] is False and again[0]["xp"] == rows[5]["xp"]


def test_a_bot_may_call_both_batches_but_not_the_helper_behind_them(conn):
    conn.execute("SET ROLE xp_bot")
    assert conn.execute("SELECT count(*) AS n FROM xp.award_many(%s)",
                        (Jsonb([award("1", 5, "k")]),)).fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM xp.record_messages(%s)", (Jsonb([]),)).fetchone()["n"] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM xp._batch('award_xp', '[]')")


def test_concurrent_batches_over_the_same_people_in_opposite_orders_never_deadlock(db_url):
    people = [str(i) for i in range(1, 21)]
    errors: list[BaseException] = []

    def run(order: list[str], tag: str) -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as c:
                for n in range(15):
                    c.execute("SELECT * FROM xp.award_many(%s)",
                              (Jsonb([award(p, 1, f"{tag}-{n}-{p}") for p in order]),)).fetchall()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with psycopg.connect(db_url, autocommit=True) as c:  # every account exists, so the batches lock them
        c.execute("SELECT * FROM xp.award_many(%s)", (Jsonb([award(p, 1, f"seed-{p}") for p in people]),))
    threads = [threading.Thread(target=run, args=(people if i % 2 else people[::-1], f"t{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    with psycopg.connect(db_url, autocommit=True) as c:
        assert c.execute("SELECT sum(xp) FROM xp.users").fetchone()[0] == 20 + 4 * 15 * 20
