"""Discord handler: make a person's managed roles in every mapped guild match the database.

The desired roles come from current database state (xp.discord_role_plan), so
any delivery for a person, whatever its event, converges their roles, and a
replay changes nothing. Only the difference is applied, with an audit-log
reason; roles xpsync does not manage are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import discord
import psycopg
from discord.http import HTTPClient

from xpsync.platforms.discord_client import rest_client

from . import store
from .handler import CallObserver, Delivery, Permanent, Retry
from .store import RolePlan

log = logging.getLogger(__name__)
T = TypeVar("T")
REASON = "xpsync: rank roles follow XP"
UNKNOWN_MEMBER = 10007


class DiscordRoles:
    target = "discord"

    def __init__(self, token: str, api_base: str, *, call_timeout: float = 10.0,
                 on_call: CallObserver | None = None) -> None:
        self.token = token
        self.api_base = api_base
        self.call_timeout = call_timeout
        self.on_call = on_call
        self.stats: Counter[str] = Counter()
        self.http: HTTPClient | None = None

    async def start(self) -> None:
        """Log in with the bot token; a rejected one is a ConfigError naming DISCORD_TOKEN."""
        self.http = await rest_client(self.token, self.api_base)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    def configure(self, settings: dict[str, Any]) -> None:
        """No live setting changes how roles are applied (discord.py paces the calls itself)."""

    async def lookup(self, conn: psycopg.AsyncConnection[Any], people: list[int]) -> dict[int, list[RolePlan]]:
        return await store.role_plans(conn, people)

    async def handle(self, delivery: Delivery, plans: list[RolePlan] | None) -> str | None:
        if plans and self.on_call is not None:
            self.on_call(delivery)
        for plan in plans or ():
            await self._converge(plan)
        return None

    async def _converge(self, plan: RolePlan) -> None:
        assert self.http is not None, "start() first"
        guild_id, member_id = plan.guild_id, plan.member_id
        member = await self._call(self.http.get_member(guild_id, member_id), guild_id)
        if member is None:
            return  # not a member of that guild: nothing to do
        current = set(member["roles"])
        for role in sorted(plan.desired - current):
            if await self._call(self.http.add_role(guild_id, member_id, role, reason=REASON), guild_id) is None:
                return
            self.stats["roles_added"] += 1
        for role in sorted((current & plan.managed) - plan.desired):
            if await self._call(self.http.remove_role(guild_id, member_id, role, reason=REASON), guild_id) is None:
                return
            self.stats["roles_removed"] += 1

    async def _call(self, request: Awaitable[T], guild_id: str) -> T | Any | None:
        """One Discord call with the delivery protocol's view of its errors; None: the member is gone."""
        try:
            async with asyncio.timeout(self.call_timeout):
                result = await request
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MEMBER:
                return None
            raise Permanent(f"discord 404 in guild {guild_id}: {exc.text or 'Not Found'}") from None
        except discord.Forbidden as exc:
            raise Permanent(f"discord 403 in guild {guild_id}: {exc.text or 'Forbidden'}") from None
        except discord.RateLimited as exc:
            raise Retry("discord 429", retry_after=exc.retry_after) from None
        except discord.DiscordServerError as exc:
            raise Retry(f"discord {exc.status}: {exc.text or 'server error'}") from None
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise Retry("discord 429", retry_after=_retry_after(exc)) from None
            raise Permanent(f"discord {exc.status} in guild {guild_id}: {exc.text}") from None
        except TimeoutError:
            raise Retry(f"discord timed out after {self.call_timeout:g}s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Retry(f"discord unreachable: {type(exc).__name__}") from None
        return True if result is None else result


def _retry_after(exc: discord.HTTPException) -> float | None:
    try:
        return float(exc.response.headers.get("Retry-After", ""))
    except ValueError:
        return None
