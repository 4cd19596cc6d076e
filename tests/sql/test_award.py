"""xp.award_xp and xp.award_coins: idempotency, validation, balances, first sight."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import balances_match_ledger, call, ledger_rows, scalar


def test_first_sight_creates_a_person_with_the_award(conn):
    row = call(conn, "award_xp", "telegram", "42", 100, "hello", "k1", "Ivan")
    assert row == {
        "user_id": row["user_id"],
        "xp": 100,
        "coins": 0,
        "old_rank": 1,
        "new_rank": 1,
        "rank_changed": False,
        "reward_coins": 0,
        "applied": True,
    }
    person = conn.execute("SELECT display_name, xp FROM xp.users WHERE id = %s", (row["user_id"],)).fetchone()
    assert person == {"display_name": "Ivan", "xp": 100}
    account = conn.execute("SELECT platform, external_id, user_id FROM xp.accounts").fetchall()
    assert account == [{"platform": "telegram", "external_id": "42", "user_id": row["user_id"]}]


def test_same_account_accumulates_on_one_person(conn):
    first = call(conn, "award_xp", "discord", "7", 10, "a", "k1")
    second = call(conn, "award_xp", "discord", "7", 15, "b", "k2")
    assert second["user_id"] == first["user_id"]
    assert second["xp"] == 25
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 1


def test_replay_returns_current_state_without_applying(conn):
    call(conn, "award_xp", "telegram", "42", 100, "hello", "k1")
    call(conn, "award_xp", "telegram", "42", 5, "other", "k2")
    replay = call(conn, "award_xp", "telegram", "42", 100, "hello", "k1")
    assert replay["applied"] is False
    assert replay["xp"] == 105
    assert ledger_rows(conn) == 2


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("award_xp", ("telegram", "42", 101, "hello", "k1")),  # another amount
        ("award_xp", ("telegram", "43", 100, "hello", "k1")),  # another account
        ("award_xp", ("discord", "42", 100, "hello", "k1")),  # another platform's account
        ("award_coins", ("telegram", "42", 100, "hello", "k1")),  # another kind
    ],
)
def test_key_reused_with_other_parameters_is_xp004_and_writes_nothing(conn, function, args):
    call(conn, "award_xp", "telegram", "42", 100, "hello", "k1")
    before = ledger_rows(conn), scalar(conn, "SELECT count(*) FROM xp.users")
    with pytest.raises(psycopg.Error) as err:
        call(conn, function, *args)
    assert err.value.sqlstate == "XP004"
    assert "'k1'" in err.value.diag.message_primary
    assert (ledger_rows(conn), scalar(conn, "SELECT count(*) FROM xp.users")) == before


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("telegram", "42", 10_000_000, "r", "k"), "10000000"),
        (("telegram", "42", -1_000_001, "r", "k"), "-1000001"),
        (("telegram", "42", -(2**31), "r", "k"), "-2147483648"),  # abs() of this overflows int
        (("telegram", "42", 0, "r", "k"), "amount 0"),
        (("telegram", "42", None, "r", "k"), "NULL"),
        (("telegrm", "42", 10, "r", "k"), "'telegrm'"),
        ((None, "42", 10, "r", "k"), "platform NULL"),
        (("telegram", "", 10, "r", "k"), "external_id"),
        (("telegram", "x" * 201, 10, "r", "k"), "external_id is 201"),
        (("telegram", "42", 10, "", "k"), "reason"),
        (("telegram", "42", 10, "r" * 201, "k"), "reason is 201"),
        (("telegram", "42", 10, "r", ""), "idempotency_key"),
        (("telegram", "42", 10, "r", "k" * 201), "idempotency_key is 201"),
        (("telegram", "42", 10, "r", None), "idempotency_key"),
    ],
)
def test_invalid_arguments_are_xp002_naming_the_value_and_write_nothing(conn, args, names):
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_xp", *args)
    assert err.value.sqlstate == "XP002"
    assert names in err.value.diag.message_primary
    assert ledger_rows(conn) == 0
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0


def test_over_long_display_name_is_xp002(conn):
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_xp", "telegram", "42", 10, "r", "k", "n" * 201)
    assert err.value.sqlstate == "XP002"
    assert "display_name" in err.value.diag.message_primary


def test_penalty_below_zero_is_xp003_and_writes_nothing(conn):
    call(conn, "award_xp", "telegram", "42", 30, "hello", "k1")
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_xp", "telegram", "42", -31, "penalty", "k2")
    assert err.value.sqlstate == "XP003"
    assert "30" in err.value.diag.message_primary and "-31" in err.value.diag.message_primary
    assert ledger_rows(conn) == 1
    assert call(conn, "award_xp", "telegram", "42", -30, "penalty", "k3")["xp"] == 0


def test_spending_coins_never_goes_below_zero(conn):
    call(conn, "award_coins", "discord", "9", 50, "gift", "c1")
    spent = call(conn, "award_coins", "discord", "9", -20, "shop", "c2")
    assert (spent["coins"], spent["xp"]) == (30, 0)
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_coins", "discord", "9", -31, "shop", "c3")
    assert err.value.sqlstate == "XP003"
    assert scalar(conn, "SELECT coins FROM xp.users") == 30


def test_first_sight_with_a_failing_award_creates_no_person(conn):
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_coins", "discord", "new", -5, "shop", "c1")
    assert err.value.sqlstate == "XP003"
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0


def test_ledger_is_append_only(conn):
    call(conn, "award_xp", "telegram", "42", 30, "hello", "k1")
    for statement in (
        "UPDATE xp.ledger SET delta = 1000",
        "UPDATE xp.ledger SET reason = 'edited'",
        "DELETE FROM xp.ledger",
        "TRUNCATE xp.ledger CASCADE",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(statement)
    assert scalar(conn, "SELECT delta FROM xp.ledger") == 30


def test_balances_always_equal_ledger_sums(conn):
    for i in range(30):
        call(conn, "award_xp", "telegram", str(i % 4), 40 + i, "r", f"x{i}")
        call(conn, "award_coins", "discord", str(i % 3), 5 + i, "r", f"c{i}")
    assert balances_match_ledger(conn) == []
