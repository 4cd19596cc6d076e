"""The vocabulary Python defines once is the one the database checks."""

from __future__ import annotations

import re

import psycopg
import pytest

from xpsync.vocabulary import DEFAULT_LANGUAGE, DELIVERY_STATUSES, LANGUAGES, PERIODS, PLATFORMS, SOURCES, TARGETS


def allowed(conn, table: str, column: str) -> set[str]:
    """The values a CHECK constraint on `column` of `table` allows (column = ANY (ARRAY[...]))."""
    rows = conn.execute(
        "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'c' AND pg_get_constraintdef(oid) ~ %s",
        (table, rf"^CHECK \(\(\(?{column} = ANY"),
    ).fetchall()
    assert len(rows) == 1, rows
    return set(re.findall(r"'([^']*)'::text", rows[0]["def"]))


def test_platforms_and_targets_are_the_ones_the_tables_allow(conn):
    assert allowed(conn, "xp.accounts", "platform") == set(PLATFORMS)
    assert allowed(conn, "xp.deliveries", "target") == set(TARGETS)


def test_delivery_statuses_and_ledger_sources_are_the_ones_the_tables_allow(conn):
    assert allowed(conn, "xp.deliveries", "status") == set(DELIVERY_STATUSES)
    assert allowed(conn, "xp.ledger", "source") == set(SOURCES)


def test_languages_are_the_ones_the_database_offers(conn):
    offered = conn.execute("SELECT value FROM xp.settings WHERE key = 'notices.languages'").fetchone()["value"]
    assert offered == list(LANGUAGES)
    # someone who chose nothing, on an app in a language not offered, is spoken to in the fallback
    conn.execute("SELECT xp.set_client_language('telegram', '1', 'de')")
    assert conn.execute("SELECT xp.language('telegram', '1') AS l").fetchone()["l"] == DEFAULT_LANGUAGE


def test_periods_are_the_ones_the_leaderboard_accepts(conn):
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('s', current_date - 1, current_date + 1)")
    for period in PERIODS:
        conn.execute("SELECT * FROM xp.leaderboard(10, %s)", (period,))
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM xp.leaderboard(10, 'year')")
    assert err.value.sqlstate == "XP002"
