"""Calling the SQL API through a pool: rows as dicts, XP00x refusals raised as domain exceptions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .errors import translate

Query = str | sql.Composed


class Calls:
    """The base of every process's typed wrapper of the xp.* functions it is granted."""

    def __init__(self, pool: AsyncConnectionPool, *, actor: str | None = None) -> None:
        self.pool = pool
        # who the audit log names for the changes these calls make (the transaction's xp.actor)
        self.actor = actor
        self.observer: Callable[[int], None] | None = None  # told of every call that returned (heartbeats)

    async def _rows(self, query: Query, *args: Any) -> list[dict[str, Any]]:
        try:
            async with self.pool.connection() as conn, (
                    conn.transaction() if self.actor else contextlib.nullcontext()):
                if self.actor:
                    await conn.execute("SELECT set_config('xp.actor', %s, true)", (self.actor,))
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(query, args)
                rows = await cur.fetchall()
        except psycopg.Error as exc:
            domain = translate(exc)
            if domain is None:
                raise
            raise domain from exc
        if self.observer is not None:
            self.observer(1)
        return rows

    async def _one(self, query: Query, *args: Any) -> Any:
        """The one row of the answer; its one value when it has a single column."""
        rows = await self._rows(query, *args)
        row = rows[0]
        return next(iter(row.values())) if len(row) == 1 else row
