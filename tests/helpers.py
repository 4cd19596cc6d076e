"""Small helpers the tests share: calling SQL API functions and checking invariants."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from xpsync.db import with_database


def call(conn: psycopg.Connection, function: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """SELECT * FROM xp.<function>(args, name => value) and return the one row."""
    params = [sql.Placeholder()] * len(args) + [
        sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in kwargs
    ]
    query = sql.SQL("SELECT * FROM xp.{}({})").format(sql.Identifier(function), sql.SQL(", ").join(params))
    row = conn.execute(query, [*args, *kwargs.values()]).fetchone()
    assert row is not None
    return row


def as_bot(conn: psycopg.Connection, function: str, *args: Any) -> dict[str, Any]:
    """What a bot does: one call of the SQL API as xp_bot (an ordinary award rings no NOTIFY)."""
    conn.execute("SET ROLE xp_bot")
    try:
        return call(conn, function, *args)
    finally:
        conn.execute("RESET ROLE")


def scalar(conn: psycopg.Connection, query: str, *args: Any) -> Any:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def balances_match_ledger(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """People whose cached balances differ from their ledger sums (empty when consistent)."""
    return conn.execute(
        """
        SELECT u.id, u.xp, u.coins, coalesce(l.xp, 0) AS ledger_xp, coalesce(l.coins, 0) AS ledger_coins
          FROM xp.users u
          LEFT JOIN (SELECT user_id,
                            sum(delta) FILTER (WHERE kind = 'xp') AS xp,
                            sum(delta) FILTER (WHERE kind = 'coins') AS coins
                       FROM xp.ledger GROUP BY user_id) l ON l.user_id = u.id
         WHERE u.xp <> coalesce(l.xp, 0) OR u.coins <> coalesce(l.coins, 0)
        """
    ).fetchall()


def ledger_rows(conn: psycopg.Connection) -> int:
    return int(scalar(conn, "SELECT count(*) FROM xp.ledger"))


def assert_consistent(conn: psycopg.Connection) -> None:
    """The ledger invariants every scenario must leave true."""
    assert balances_match_ledger(conn) == []
    wrong_rank = conn.execute(
        """
        SELECT u.id, u.xp, u.rank_id,
               (SELECT r.id FROM xp.ranks r WHERE r.min_xp <= u.xp ORDER BY r.min_xp DESC LIMIT 1) AS derived
          FROM xp.users u
         WHERE u.rank_id <> (SELECT r.id FROM xp.ranks r WHERE r.min_xp <= u.xp ORDER BY r.min_xp DESC LIMIT 1)
            OR u.xp < u.rank_floor OR u.xp >= u.rank_ceil
        """
    ).fetchall()
    assert wrong_rank == []
    unpaid = conn.execute("SELECT id FROM xp.users WHERE rewarded_rank < rank_id").fetchall()
    assert unpaid == []
    orphans = conn.execute(
        "SELECT u.id FROM xp.users u WHERE u.forgotten_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM xp.accounts a WHERE a.user_id = u.id)"
    ).fetchall()
    assert orphans == []


@contextmanager
def scratch_database(root_url: str, name: str) -> Iterator[str]:
    """An empty database on the server of `root_url` (its URL), dropped afterwards."""
    def drop() -> None:
        with psycopg.connect(root_url, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    with psycopg.connect(root_url, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield with_database(root_url, name)
    finally:
        drop()


def raises(sqlstate: str, conn: psycopg.Connection, query: str, *args: Any) -> str:
    """Run `query`, expect the database to refuse it with `sqlstate`; return the message."""
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query, args)
    assert err.value.sqlstate == sqlstate
    return err.value.diag.message_primary


def telegram_login(token: str, user_id: str, first_name: str = "Tg", auth_date: int | None = None,
                   **fields: str) -> dict[str, str]:
    """What the Login Widget puts in its redirect, signed as Telegram signs it."""
    data = {"id": user_id, "first_name": first_name, "auth_date": str(auth_date or int(time.time())), **fields}
    check = "\n".join(f"{k}={data[k]}" for k in sorted(data))
    data["hash"] = hmac.new(hashlib.sha256(token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
    return data
