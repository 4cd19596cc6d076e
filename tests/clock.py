"""Days passing, for tests: instead of moving now() (which the functions take from pg_catalog, on
purpose), move the whole database back in time. Every date and timestamp column of the xp schema
goes back by the same amount, so that what happened today happened yesterday and today is a new
day for every rule (the daily claim, the wheel, the boards' weeks, cooldowns, lock-outs, codes).

Only tests call this, as the owner, while nothing else writes; it costs production nothing."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

# Rows move in two steps, by far more than the data spans and back: a unique key that holds a day
# (a family's claim of a day, a daily key) never meets, mid-statement, the row of the day before.
AWAY = 36500


def pass_days(conn: psycopg.Connection[Any], days: int = 1) -> None:
    """Make `days` UTC days pass: the database's past moves `days` days further back."""
    with conn.cursor(row_factory=dict_row) as cur:
        columns = cur.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = 'xp' AND t.table_type = 'BASE TABLE' "
            "  AND c.data_type IN ('date', 'timestamp with time zone') ORDER BY 1, 2").fetchall()
    by_table: dict[str, list[sql.Composable]] = {}
    for c in columns:
        name = sql.Identifier(c["column_name"])
        moved = sql.SQL("{} - make_interval(days => %(days)s)").format(name)
        if c["data_type"] == "date":
            moved = sql.SQL("({})::date").format(moved)
        by_table.setdefault(c["table_name"], []).append(sql.SQL("{} = {}").format(name, moved))
    with conn.transaction():
        # the one rewrite of the ledger a test may make: its times, all alike
        conn.execute("ALTER TABLE xp.ledger DISABLE TRIGGER ledger_no_rewrite")
        conn.execute("ALTER TABLE xp.seasons DISABLE TRIGGER seasons_changed")
        for step in (days + AWAY, -AWAY):
            for table, assignments in by_table.items():
                conn.execute(sql.SQL("UPDATE xp.{} SET {}").format(sql.Identifier(table),
                                                                   sql.SQL(", ").join(assignments)), {"days": step})
            # the one key that names its day: daily:<person>:<YYYY-MM-DD>:<kind>
            conn.execute("UPDATE xp.ledger SET idempotency_key = concat_ws(':', 'daily', "
                         "split_part(idempotency_key, ':', 2), split_part(idempotency_key, ':', 3)::date - %(days)s, "
                         "split_part(idempotency_key, ':', 4)) "
                         "WHERE source = 'daily' AND idempotency_key LIKE 'daily:%%'", {"days": step})
        # the counters of "this week" and "this month" now cover other ledger rows: what a reconcile
        # would put right, the moment time moves
        conn.execute("SELECT count(*) FROM xp._fix_boards(NULL)")
        conn.execute("ALTER TABLE xp.seasons ENABLE TRIGGER seasons_changed")
        conn.execute("ALTER TABLE xp.ledger ENABLE TRIGGER ledger_no_rewrite")
