"""The SQL API as the bots call it: one pool per process, XP00x refusals raised as domain exceptions.

Bots compute nothing themselves: XP, cooldowns, ranks, rewards and game scores come back from these calls.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from xpsync.calls import Calls


class Xp(Calls):
    """Async calls of the xp.* functions a bot is granted."""

    def __init__(self, pool: AsyncConnectionPool, platform: str) -> None:
        super().__init__(pool)
        self.platform = platform

    async def profile(self, external_id: str, platform: str | None = None) -> dict[str, Any]:
        return await self._one("SELECT xp.profile(%s, %s)", platform or self.platform, external_id)

    async def language(self, external_id: str) -> str | None:
        """The language to speak to the person in (chosen, else their app's), or None for an account never
        seen (one indexed lookup)."""
        return await self._one("SELECT xp.language(%s, %s)", self.platform, external_id)

    async def set_client_language(self, external_id: str, language: str) -> str:
        """Record the language the account's app reports; returns the language to speak to the person in."""
        return await self._one("SELECT xp.set_client_language(%s, %s, %s)", self.platform, external_id, language)

    async def leaderboard(self, period: str = "all", limit: int = 10) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.leaderboard(%s, %s)", limit, period)

    async def claim_daily(self, external_id: str, display_name: str | None) -> dict[str, Any]:
        return await self._one("SELECT * FROM xp.claim_daily(%s, %s, %s)", self.platform, external_id, display_name)

    async def record_message(self, external_id: str, chat_id: str, message_id: str, length: int,
                             display_name: str | None) -> dict[str, Any]:
        return await self._one("SELECT * FROM xp.record_message(%s, %s, %s, %s, %s, %s)", self.platform,
                               external_id, chat_id, message_id, length, display_name)

    async def record_messages(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Many messages in one call (bots/messages.py buffers them): one row per item, in order."""
        return await self._rows("SELECT * FROM xp.record_messages(%s)", Jsonb(items))

    async def record_voice(self, external_id: str, session_id: str, seconds: int) -> dict[str, Any]:
        return await self._one("SELECT * FROM xp.record_voice(%s, %s, %s, %s)", self.platform, external_id,
                               session_id, seconds)

    async def create_link_code(self, external_id: str) -> str:
        return await self._one("SELECT xp.create_link_code(%s, %s)", self.platform, external_id)

    async def redeem_link_code(self, external_id: str, code: str) -> int | None:
        return await self._one("SELECT xp.redeem_link_code(%s, %s, %s)", self.platform, external_id, code)

    async def unlink(self, external_id: str) -> int:
        return await self._one("SELECT xp.unlink(%s, %s)", self.platform, external_id)

    async def request_resync(self, external_id: str) -> int:
        return await self._one("SELECT xp.request_resync(%s, %s)", self.platform, external_id)

    async def chat_opened(self, external_id: str) -> bool:
        """/start: the bot may write to the person now; True when notices muted by a block came back on."""
        return await self._one("SELECT xp.chat_opened(%s, %s)", self.platform, external_id)
    async def discord_roles_changed(self, guild_id: str, member_id: str, added: list[str],
                                    removed: list[str]) -> int:
        """A member's roles changed; a resync is queued only when a managed role drifted from the plan."""
        return await self._one("SELECT xp.discord_roles_changed(%s, %s, %s, %s)", guild_id, member_id, added,
                               removed)

    async def set_notify(self, external_id: str, enabled: bool) -> bool:
        return await self._one("SELECT xp.set_notify(%s, %s, %s)", self.platform, external_id, enabled)

    async def set_privacy(self, external_id: str, hidden: bool) -> bool:
        return await self._one("SELECT xp.set_privacy(%s, %s, %s)", self.platform, external_id, hidden)

    async def set_language(self, external_id: str, language: str) -> str:
        return await self._one("SELECT xp.set_language(%s, %s, %s)", self.platform, external_id, language)

    async def start_game(self, external_id: str, game: str) -> dict[str, Any]:
        return await self._one("SELECT xp.start_game(%s, %s, %s)", self.platform, external_id, game)

    async def play_game(self, external_id: str, session_id: int, move: str) -> dict[str, Any]:
        return await self._one("SELECT xp.play_game(%s, %s, %s, %s)", self.platform, external_id, session_id, move)

    async def quest_list(self, external_id: str) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.quest_list(%s, %s)", self.platform, external_id)

    async def submit_quest(self, external_id: str, quest: str, proof: str) -> dict[str, Any]:
        return await self._one("SELECT xp.submit_quest(%s, %s, %s, %s)", self.platform, external_id, quest, proof)

    async def shop_list(self) -> list[dict[str, Any]]:
        return await self._rows("SELECT * FROM xp.shop_list()")

    async def buy(self, external_id: str, item: str, request_key: str) -> dict[str, Any]:
        """Buy a shop item; the same request_key again (a double tap) buys nothing more."""
        return await self._one("SELECT xp.buy(%s, %s, %s, %s)", self.platform, external_id, item, request_key)
