"""Discord's OAuth2 code flow for sign-in: the authorize URL, the code exchange and the user and guilds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)

SCOPES = "identify guilds"
TIMEOUT = aiohttp.ClientTimeout(total=10)
MANAGE_GUILD, ADMINISTRATOR = 0x20, 0x8


class OAuthFailed(Exception):
    """Discord refused the code or answered something unexpected."""


@dataclass(frozen=True)
class DiscordUser:
    id: str
    name: str
    managed_guilds: tuple[str, ...]  # guilds where the member may manage the server


class DiscordOAuth:
    def __init__(self, client_id: str, client_secret: str, authorize_url: str, api_base: str,
                 redirect_uri: str) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.authorize_url = authorize_url
        self.api_base = api_base
        self.redirect_uri = redirect_uri

    def authorize(self, state: str) -> str:
        return self.authorize_url + "?" + urlencode({
            "client_id": self.client_id, "response_type": "code", "scope": SCOPES, "state": state,
            "redirect_uri": self.redirect_uri, "prompt": "none",
        })

    async def user(self, code: str) -> DiscordUser:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            token = await self._json(http.post(self.api_base + "/oauth2/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": self.client_id, "client_secret": self._secret,
            }))
            access = token.get("access_token")
            if not isinstance(access, str):
                raise OAuthFailed("no access_token in Discord's answer")
            bearer = {"Authorization": f"Bearer {access}"}
            me = await self._json(http.get(self.api_base + "/users/@me", headers=bearer))
            guilds = await self._json(http.get(self.api_base + "/users/@me/guilds", headers=bearer))
        if not str(me.get("id", "")).isdigit():
            raise OAuthFailed("no user id in Discord's answer")
        managed = tuple(str(g["id"]) for g in guilds if isinstance(g, dict)
                        and int(g.get("permissions", 0)) & (MANAGE_GUILD | ADMINISTRATOR))
        return DiscordUser(str(me["id"]), str(me.get("global_name") or me.get("username") or me["id"])[:200],
                           managed[:100])

    @staticmethod
    async def _json(call: Any) -> Any:
        try:
            async with call as response:
                if response.status != 200:
                    raise OAuthFailed(f"Discord answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OAuthFailed(f"Discord did not answer: {type(exc).__name__}") from exc
