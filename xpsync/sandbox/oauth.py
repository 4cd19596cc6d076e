"""Discord's OAuth2 in the sandbox: the authorize page, the code exchange and the Bearer reads
(/users/@me, /users/@me/guilds), so that the web's sign-in runs for real in tests and the demo.

The browser "is" one Discord user at a time (`login_as`); the authorize page grants at once,
or refuses with `error=access_denied` when `deny` is set, as Discord does when a user cancels.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CODE_SECONDS = 600


@dataclass
class OAuthUser:
    id: str
    username: str
    global_name: str | None = None
    # (guild id, name, permission bits)
    guilds: list[tuple[str, str, int]] = field(default_factory=list)


@dataclass
class OAuthApp:
    client_id: str = "1234567890"
    client_secret: str = "sandbox-oauth-secret"  # noqa: S105 - the fake platform's made-up secret
    user: OAuthUser = field(default_factory=lambda: OAuthUser("300000000000000001", "sandbox-member"))
    deny: bool = False
    codes: dict[str, tuple[OAuthUser, str, float]] = field(default_factory=dict)
    tokens: dict[str, OAuthUser] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def login_as(self, user_id: str, username: str, global_name: str | None = None,
                 guilds: list[tuple[str, str, int]] | None = None) -> None:
        with self.lock:
            self.user = OAuthUser(user_id, username, global_name, list(guilds or []))

    def routes(self, router: web.UrlDispatcher, api_prefix: str, page_prefix: str) -> None:
        router.add_get(page_prefix + "/oauth2/authorize", self.authorize)
        router.add_post(api_prefix + "/oauth2/token", self.token)
        router.add_get(api_prefix + "/users/@me/guilds", self.guilds)

    def bearer(self, request: web.Request) -> OAuthUser | None:
        header = request.headers.get("Authorization", "")
        with self.lock:
            return self.tokens.get(header[len("Bearer "):]) if header.startswith("Bearer ") else None

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return web.Response(status=400, text="Invalid OAuth2 request: unknown client_id or response_type")
        if "identify" not in q.get("scope", "").split():
            return web.Response(status=400, text="Invalid OAuth2 request: scope must include identify")
        answer: dict[str, str] = {"state": q["state"]} if "state" in q else {}
        with self.lock:
            if self.deny:
                answer["error"] = "access_denied"
            else:
                code = secrets.token_urlsafe(16)
                self.codes[code] = (self.user, q["redirect_uri"], time.time() + CODE_SECONDS)
                answer["code"] = code
        raise web.HTTPFound(q["redirect_uri"] + ("&" if "?" in q["redirect_uri"] else "?") + urlencode(answer))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self.lock:
            granted = self.codes.pop(str(form.get("code", "")), None)
            if granted is None or granted[2] < time.time() or granted[1] != form.get("redirect_uri"):
                return _json(400, {"error": "invalid_grant", "error_description": "Invalid \"code\" in request."})
            access = secrets.token_urlsafe(24)
            self.tokens[access] = granted[0]
        return _json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 604800,
                           "refresh_token": secrets.token_urlsafe(24), "scope": "identify guilds"})

    def me(self, user: OAuthUser) -> dict[str, Any]:
        return {"id": user.id, "username": user.username, "global_name": user.global_name, "discriminator": "0",
                "avatar": None, "bot": False}

    async def guilds(self, request: web.Request) -> web.Response:
        user = self.bearer(request)
        if user is None:
            return _json(401, {"message": "401: Unauthorized", "code": 0})
        return _json(200, [{"id": g, "name": name, "icon": None, "owner": False, "permissions": str(bits)}
                           for g, name, bits in user.guilds])


def _json(status: int, data: Any) -> web.Response:
    return web.json_response(data, status=status)
