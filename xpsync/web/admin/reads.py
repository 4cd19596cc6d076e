"""What the admin panel reads, one method a function, through the web's own login (role xp_web).

The panel reads with the web's login, not the admin's: its pages work read-only without
XPSYNC_ADMIN_DATABASE_URL, and no read ever runs under a role that could write a table. The web's
login still reads no table: these are functions that return what the panel shows (docs/web.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ...calls import Calls


class AdminReads(Calls):
    async def cursor(self) -> dict[str, int]:
        return await self._one("SELECT xp.admin_cursor()")

    async def overview(self) -> dict[str, Any]:
        return await self._one("SELECT xp.admin_overview()")

    async def processes(self) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_heartbeats()")

    async def config_version(self) -> int:
        return await self._one("SELECT xp.config_version()")

    async def people(self, q: str | None, lim: int = 50) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_people(%s, %s)", q, lim)

    async def person(self, uid: int) -> dict[str, Any] | None:
        return await self._one("SELECT xp.admin_person(%s)", uid)

    async def ledger(self, uid: int, before: int | None, lim: int) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_ledger(%s, %s, %s)", uid, before, lim)

    async def deliveries(self, target: str | None, status: str | None, error: str | None, before: int | None,
                         lim: int) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_deliveries(%s, %s, %s, %s, %s)", target, status, error,
                                before, lim)

    async def delivery_count(self, target: str | None, status: str | None, error: str | None) -> int:
        return await self._one("SELECT xp.admin_delivery_count(%s, %s, %s)", target, status, error)

    async def audit(self, before: int | None, lim: int, q: str | None = None) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.audit_log(%s, %s, %s)", before, lim, q)

    async def settings(self) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_settings()")

    async def rows(self, table: str) -> list[dict[str, Any]]:
        return await self._one("SELECT xp.operator_rows(%s)", table)

    async def ladder(self) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.rank_ladder()")

    async def use_token(self, token_hash: bytes) -> dict[str, Any] | None:
        rows = await self._rows("SELECT * FROM xp.use_admin_token(%s)", token_hash)
        return rows[0] if rows else None

    async def token_role(self, token_id: int) -> str | None:
        return await self._one("SELECT xp.admin_token_role(%s)", token_id)

    async def preview_thresholds(self, thresholds: dict[str, int]) -> dict[str, Any]:
        return await self._one("SELECT xp.preview_thresholds(%s)", Jsonb(thresholds))

    async def void_preview(self, since: datetime, until: datetime, uid: int | None, source: str | None,
                           reason: str | None) -> dict[str, Any]:
        return await self._one("SELECT xp.void_preview(%s, %s, %s, %s, %s)", since, until, uid, source, reason)

    async def submissions(self, state: str | None, quest: str | None = None, lim: int = 100) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_quest_queue(%s, %s, %s)", state, quest, lim)

    async def purchases(self, state: str | None, item: str | None = None, lim: int = 100) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_shop_queue(%s, %s, %s)", state, item, lim)

    async def review_count(self, queue: str, what: str | None) -> dict[str, Any]:
        return await self._one("SELECT xp.admin_review_count(%s, %s)", queue, what)

    async def person_roles(self, uid: int) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.admin_person_roles(%s)", uid)

    async def text_catalogue(self) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.text_catalogue()")

    async def preview_text(self, key: str, body: str) -> str:
        return await self._one("SELECT xp.preview_text(%s, %s)", key, body)
