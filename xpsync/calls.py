"""Calling the SQL API through a pool: rows as dicts, XP00x refusals raised as domain exceptions."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .errors import translate


class Calls:
    """The base of every process's typed wrapper of the xp.* functions it is granted."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def _rows(self, query: str, *args: Any) -> list[dict[str, Any]]:
        try:
            async with self.pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(query, args)
                return await cur.fetchall()
        except psycopg.Error as exc:
            domain = translate(exc)
            if domain is None:
                raise
            raise domain from exc

    async def _one(self, query: str, *args: Any) -> Any:
        """The one row of the answer; its one value when it has a single column."""
        rows = await self._rows(query, *args)
        row = rows[0]
        return next(iter(row.values())) if len(row) == 1 else row
