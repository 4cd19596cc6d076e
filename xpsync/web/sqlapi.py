"""The xp.* functions the website is granted (role xp_web), one method a call."""

from __future__ import annotations

import time
from typing import Any

from psycopg_pool import AsyncConnectionPool

from ..calls import Calls


class WebCalls(Calls):
    """Typed calls for the pages and the API; small things that change rarely are cached briefly."""

    SETTINGS_SECONDS = 1.0  # a changed web.visibility takes effect within a second
    LADDER_SECONDS = 5.0
    SIZE_SECONDS = 10.0

    def __init__(self, pool: AsyncConnectionPool) -> None:
        super().__init__(pool)
        self._cache: dict[Any, tuple[float, Any]] = {}

    async def _cached(self, key: Any, seconds: float, query: str, *args: Any, many: bool = False) -> Any:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < seconds:
            return hit[1]
        value = await (self._rows(query, *args) if many else self._one(query, *args))
        self._cache[key] = (now, value)
        return value

    async def settings(self) -> dict[str, Any]:
        return await self._cached("settings", self.SETTINGS_SECONDS, "SELECT xp.web_settings()")

    async def visibility(self) -> str:
        value = (await self.settings()).get("web.visibility", "public")
        return value if value in ("public", "members", "off") else "off"

    async def ladder(self) -> list[dict[str, Any]]:
        return await self._cached("ladder", self.LADDER_SECONDS, "SELECT * FROM xp.rank_ladder()", many=True)

    async def ranks_by_id(self) -> dict[int, dict[str, Any]]:
        return {r["id"]: r for r in await self.ladder()}

    async def board_size(self, period: str) -> int:
        return await self._cached(("size", period), self.SIZE_SECONDS, "SELECT xp.board_size(%s)", period)

    async def leaderboard(self, period: str, limit: int, skip: int = 0,
                          name_prefix: str | None = None) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.leaderboard(%s, %s, %s, %s)", limit, period, skip, name_prefix)

    async def public_profile(self, user_id: int, viewer: int | None = None) -> dict[str, Any] | None:
        return await self._one("SELECT xp.public_profile(%s, %s)", user_id, viewer)

    async def account_person(self, platform: str, external_id: str) -> int | None:
        return await self._one("SELECT xp.account_person(%s, %s)", platform, external_id)

    async def sign_in(self, platform: str, external_id: str, display_name: str | None) -> int:
        return await self._one("SELECT xp.web_sign_in(%s, %s, %s)", platform, external_id, display_name)

    async def link(self, account: tuple[str, str], other: tuple[str, str], *, dry_run: bool) -> dict[str, Any]:
        return await self._one("SELECT xp.link_accounts(%s, %s, %s, %s, %s)", *account, *other, dry_run)

    async def set_privacy(self, platform: str, external_id: str, hidden: bool) -> bool:
        return await self._one("SELECT xp.set_privacy(%s, %s, %s)", platform, external_id, hidden)

    async def api_key_name(self, key: str) -> str | None:
        return await self._one("SELECT xp.api_key_name(%s)", key)

    async def refresh_places(self) -> bool:
        return await self._one("SELECT xp.refresh_places()")

    async def ping(self) -> None:
        await self._one("SELECT 1")
