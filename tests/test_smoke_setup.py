from __future__ import annotations

from tests.helpers import call


def test_award_on_a_cloned_database(conn):
    row = call(conn, "award_xp", "telegram", "42", 100, "hello", "k1")
    assert row["xp"] == 100 and row["applied"] is True
