"""Discord (discord.py): the REST base every call goes to, a logged-in REST client, a rejected token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord
from discord.http import HTTPClient, Route

from ..settings import ConfigError

REJECTED = "DISCORD_TOKEN was rejected by Discord: reset it in the Developer Portal"


def use_api_base(api_base: str) -> None:
    """Point discord.py at DISCORD_API_BASE (it reads one class attribute for every REST call)."""
    Route.BASE = api_base.rstrip("/")


@contextmanager
def token_checked() -> Iterator[None]:
    """A login refused by Discord (401) becomes one line naming DISCORD_TOKEN, without the token."""
    try:
        yield
    except discord.LoginFailure:
        raise ConfigError(REJECTED) from None


async def rest_client(token: str, api_base: str, *, max_ratelimit_timeout: float | None = None,
                      trace: aiohttp.TraceConfig | None = None) -> HTTPClient:
    """A REST-only client, logged in (discord.py checks the token against /users/@me). With
    `max_ratelimit_timeout` (at least 30 s), a rate limit longer than that raises discord.RateLimited
    instead of being slept out inside the call; `trace` sees every answer."""
    use_api_base(api_base)
    http = HTTPClient(asyncio.get_running_loop(), max_ratelimit_timeout=max_ratelimit_timeout, http_trace=trace)
    try:
        with token_checked():
            await http.static_login(token)
    except BaseException:
        await http.close()
        raise
    return http
