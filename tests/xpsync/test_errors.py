from __future__ import annotations

import psycopg
import pytest

from tests.helpers import call
from xpsync import errors


@pytest.mark.parametrize(
    ("function", "args", "expected"),
    [
        ("award_xp", ("telegram", "1", 0, "r", "k"), errors.InvalidArgument),
        ("award_xp", ("telegram", "1", -5, "r", "k"), errors.InsufficientBalance),
    ],
)
def test_database_refusals_become_domain_exceptions(conn, function, args, expected):
    with pytest.raises(psycopg.Error) as err:
        call(conn, function, *args)
    domain = errors.translate(err.value)
    assert type(domain) is expected
    assert domain.sqlstate == err.value.sqlstate
    assert domain.message == err.value.diag.message_primary


def test_unknown_account_and_key_conflict_map_too(conn):
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT xp.profile('discord', 'nobody')")
    assert isinstance(errors.translate(err.value), errors.UnknownAccount)
    call(conn, "award_xp", "telegram", "1", 5, "r", "k")
    with pytest.raises(psycopg.Error) as err:
        call(conn, "award_xp", "telegram", "1", 6, "r", "k")
    assert isinstance(errors.translate(err.value), errors.IdempotencyConflict)


def test_other_database_errors_are_not_ours(conn):
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT 1/0")
    assert errors.translate(err.value) is None


def test_every_code_of_the_spec_has_an_exception():
    assert sorted(errors.BY_SQLSTATE) == [f"XP00{i}" for i in range(1, 10)]
