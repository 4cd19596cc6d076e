"""What Discord says about its limits, as the Discord handler needs to know it.

discord.py handles a route's bucket and a short 429 itself, inside the call:
it reads `X-RateLimit-*`, queues requests on an empty bucket, and sleeps out a
429 up to `max_ratelimit_timeout` (a global one with its global lock taken, so
that nothing else is sent meanwhile). Such a wait must never be cut short from
outside: a cancelled global sleep leaves that lock taken for ever. A longer
429 raises discord.RateLimited, and Cloudflare's HTML 429 an HTTPException,
neither saying what the limit was. A trace on the client's session reads every
answer's headers, so that each 429 can pause the right pace for every
instance: the whole bot for a global limit or a Cloudflare ban, one guild's
bucket for a member route, one channel's for its messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp

from .pace import bounded

CLOUDFLARE_BAN_SECONDS = 60.0  # when Cloudflare's 429 says nothing about how long
MEMBER_ROUTE = re.compile(r"/guilds/([^/]+)/members/[^/]+(/roles/[^/]+)?$")
CHANNEL_ROUTE = re.compile(r"/channels/([^/]+)/messages$")


def global_key() -> str:
    return "discord"


def bucket_key(guild_id: str, bucket: str) -> str:
    """The pace of one guild's bucket: "member" (reads) or "roles" (role edits)."""
    return f"discord:{guild_id}:{bucket}"


def channel_key(channel_id: str) -> str:
    """The pace of the messages sent to one channel (a member's direct messages)."""
    return f"discord:channel:{channel_id}"


@dataclass(frozen=True)
class RateLimit:
    """One 429 as Discord (or Cloudflare) answered it."""

    seconds: float
    scope: str  # "global" (the bot's global limit), "cloudflare" (an IP ban), "user" or "shared" (a route)
    keys: tuple[str, ...]  # the paces it holds

    @property
    def words(self) -> str:
        return {"global": "global limit", "cloudflare": "Cloudflare"}.get(self.scope, "route bucket")


@dataclass
class CallTrace:
    """Handed to one call (aiohttp's trace_request_ctx): the 429s its tries met."""

    limits: list[RateLimit] = field(default_factory=list)


def read_429(response: aiohttp.ClientResponse) -> RateLimit:
    headers = response.headers
    cloudflare = "Via" not in headers or response.content_type != "application/json"
    is_global = headers.get("X-RateLimit-Global", "").lower() == "true" or headers.get("X-RateLimit-Scope") == "global"
    seconds = _seconds(headers.get("Retry-After")) or _seconds(headers.get("X-RateLimit-Reset-After"))
    if cloudflare:
        return RateLimit(bounded(seconds or CLOUDFLARE_BAN_SECONDS), "cloudflare", (global_key(),))
    if is_global:
        return RateLimit(bounded(seconds), "global", (global_key(),))
    route, channel = MEMBER_ROUTE.search(response.url.path), CHANNEL_ROUTE.search(response.url.path)
    keys = (bucket_key(route.group(1), "roles" if route.group(2) else "member"),) if route is not None \
        else (channel_key(channel.group(1)),) if channel is not None else ()
    return RateLimit(bounded(seconds), headers.get("X-RateLimit-Scope", "user"), keys)


def trace(on_limit: Callable[[RateLimit], None]) -> aiohttp.TraceConfig:
    """A session trace that tells `on_limit` of every 429, and the call's CallTrace too."""

    async def on_request_end(session: aiohttp.ClientSession, context: SimpleNamespace,
                             params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status != 429:
            return
        limit = read_429(params.response)
        call: Any = context.trace_request_ctx
        if isinstance(call, CallTrace):
            call.limits.append(limit)
        on_limit(limit)

    config = aiohttp.TraceConfig()
    config.on_request_end.append(on_request_end)
    return config


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
