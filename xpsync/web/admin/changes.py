"""What the admin panel changes, through the admin's login (XPSYNC_ADMIN_DATABASE_URL, role xp_admin).

Each call is one transaction that names the operator in `xp.actor`, so the audit entry the function
or the operator table's trigger writes carries them. The operator tables are written as a DBA
writes them from psql, with plain INSERT, UPDATE and DELETE: their checks and triggers (the audit
log, the config version, the ladder, role resyncs) are the same for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ...calls import Calls


class AdminChanges(Calls):
    async def adjust(self, uid: int, kind: str, amount: int, reason: str) -> dict[str, Any]:
        assert self.actor is not None
        return await self._one("SELECT * FROM xp.adjust(%s, %s, %s, %s, %s)", uid, kind, amount, reason, self.actor)

    async def resync_roles(self, uid: int) -> int:
        return await self._one("SELECT xp.resync_roles(%s)", uid)

    async def unlink(self, platform: str, external_id: str) -> int:
        return await self._one("SELECT xp.admin_unlink(%s, %s)", platform, external_id)

    async def forget(self, uid: int) -> None:
        await self._rows("SELECT xp.forget_person(%s)", uid)

    async def retry(self, target: str | None, status: str | None, error: str | None, ids: list[int] | None) -> int:
        return await self._one("SELECT xp.retry_deliveries(%s, %s, %s, %s)", target, status, error, ids)

    async def discard(self, target: str | None, status: str | None, error: str | None, ids: list[int] | None) -> int:
        return await self._one("SELECT xp.discard_deliveries(%s, %s, %s, %s)", target, status, error, ids)

    async def set_setting(self, key: str, value: Any) -> None:
        """The setting's new value, checked by the table against its rule."""
        await self._rows("WITH changed AS (UPDATE xp.settings SET value = %s WHERE key = %s RETURNING 1) "
                         "SELECT count(*) AS n FROM changed", Jsonb(value), key)

    async def insert(self, table: str, values: Mapping[str, Any]) -> None:
        await self._rows(sql.SQL("WITH added AS (INSERT INTO xp.{} ({}) VALUES ({}) RETURNING 1) "
                                 "SELECT count(*) AS n FROM added").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values))), *values.values())

    async def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        rows = await self._rows(sql.SQL("WITH changed AS (UPDATE xp.{} SET {} WHERE {} RETURNING 1) "
                                        "SELECT count(*) AS n FROM changed").format(
            sql.Identifier(table), _assignments(values), _condition(key)), *values.values(), *key.values())
        return rows[0]["n"]

    async def delete(self, table: str, key: Mapping[str, Any]) -> int:
        rows = await self._rows(sql.SQL("WITH gone AS (DELETE FROM xp.{} WHERE {} RETURNING 1) "
                                        "SELECT count(*) AS n FROM gone").format(
            sql.Identifier(table), _condition(key)), *key.values())
        return rows[0]["n"]

    async def apply_thresholds(self, thresholds: dict[str, int], expected: dict[str, Any]) -> dict[str, Any]:
        return await self._one("SELECT xp.apply_thresholds(%s, %s)", Jsonb(thresholds), Jsonb(expected))

    async def void(self, since: datetime, until: datetime, uid: int | None, source: str | None, reason: str | None,
                   upto: int, digest: str, note: str) -> dict[str, Any]:
        return await self._one("SELECT xp.void_ledger(%s, %s, %s, %s, %s, %s, %s, %s)", since, until, uid, source,
                               reason, upto, digest, note)

    async def review_submission(self, submission: int, approve: bool, note: str | None) -> dict[str, Any]:
        return await self._one("SELECT xp.review_submission(%s, %s, %s)", submission, approve, note)

    async def review_purchase(self, purchase: int, approve: bool, note: str | None) -> dict[str, Any]:
        return await self._one("SELECT xp.review_purchase(%s, %s, %s)", purchase, approve, note)

    async def review_all(self, queue: str, what: str | None, upto: int, seen_at: datetime, approve: bool,
                         note: str | None) -> dict[str, Any]:
        return await self._one("SELECT xp.review_all(%s, %s, %s, %s, %s, %s)", queue, what, upto, seen_at, approve,
                               note)

    async def set_text(self, key: str, language: str, body: str | None) -> bool:
        return await self._one("SELECT xp.set_text(%s, %s, %s)", key, language, body)

    async def reconcile(self, *, dry_run: bool) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.reconcile_all(%s)", dry_run)


def _assignments(values: Mapping[str, Any]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in values)


def _condition(key: Mapping[str, Any]) -> sql.Composed:
    return sql.SQL(" AND ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in key)
