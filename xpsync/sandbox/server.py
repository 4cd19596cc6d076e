"""A loopback HTTP server that stands in for the Discord REST API and the Telegram Bot API.

The real discord.py and aiogram clients talk to it through DISCORD_API_BASE and
TELEGRAM_API_BASE. JSON answers carry `Content-Type: application/json` exactly,
as discord.py requires. Faults (429 with retry_after, 5xx, 403, slow answers)
are switched on through `Sandbox.faults`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .faults import Fault, Faults
from .oauth import OAuthApp
from .state import Call, DiscordState, InteractionReply, RoleChange, TelegramState

DISCORD_PREFIX = "/discord/api/v10"
DISCORD_PAGES = "/discord"
TELEGRAM_PREFIX = "/telegram"
Handler = Callable[[web.Request], Awaitable[web.Response]]


def reply(status: int, data: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    if data is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class Sandbox:
    """Fake Discord and Telegram on 127.0.0.1; start it in the running event loop."""

    def __init__(self, *, discord_token: str = "sandbox-discord-token", telegram_token: str = "1:sandbox") -> None:
        self.discord = DiscordState(discord_token)
        self.telegram = TelegramState(telegram_token)
        self.faults = Faults()
        self.oauth = OAuthApp()
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discord_api_base(self) -> str:
        return self.url + DISCORD_PREFIX

    @property
    def telegram_api_base(self) -> str:
        return self.url + TELEGRAM_PREFIX

    def env(self) -> dict[str, str]:
        """The environment that points xpsync at this sandbox."""
        return {
            "DISCORD_API_BASE": self.discord_api_base,
            "DISCORD_TOKEN": self.discord.token,
            "TELEGRAM_API_BASE": self.telegram_api_base,
            "TELEGRAM_TOKEN": self.telegram.token,
            "DISCORD_CLIENT_ID": self.oauth.client_id,
            "DISCORD_CLIENT_SECRET": self.oauth.client_secret,
            "DISCORD_OAUTH_URL": self.url + DISCORD_PAGES + "/oauth2/authorize",
        }

    def calls_to(self, platform: str, method: str | None = None) -> list[Call]:
        with self._calls_lock:
            return [c for c in self.calls if c.platform == platform and (method is None or c.method == method)]

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get(DISCORD_PREFIX + "/users/@me", self._discord_me)
        self.oauth.routes(app.router, DISCORD_PREFIX, DISCORD_PAGES)
        app.router.add_get(DISCORD_PREFIX + "/guilds/{guild}/members/{member}", self._discord_member)
        app.router.add_route("PUT", DISCORD_PREFIX + "/guilds/{guild}/members/{member}/roles/{role}",
                             self._discord_role)
        app.router.add_route("DELETE", DISCORD_PREFIX + "/guilds/{guild}/members/{member}/roles/{role}",
                             self._discord_role)
        app.router.add_get(DISCORD_PREFIX + "/oauth2/applications/@me", self._discord_application)
        app.router.add_post(DISCORD_PREFIX + "/interactions/{id}/{token}/callback", self._discord_interaction)
        app.router.add_route("*", TELEGRAM_PREFIX + "/bot{token}/{method}", self._telegram)
        app.router.add_get("/_sandbox/{platform}/arrivals", self._arrivals)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _record(self, platform: str, request: web.Request, status: int) -> None:
        with self._calls_lock:
            self.calls.append(Call(time.time(), platform, request.method, request.path, status))

    async def _fault(self, platform: str, request: web.Request) -> web.Response | None:
        fault = self.faults.next(platform)
        if fault is None:
            return None
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        response = (_discord_fault if platform == "discord" else _telegram_fault)(fault)
        self._record(platform, request, response.status)
        return response

    # --- Discord ---------------------------------------------------------------------------------

    def _discord_authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.discord.token}"

    async def _discord_me(self, request: web.Request) -> web.Response:
        if (member := self.oauth.bearer(request)) is not None:  # a member signed in through OAuth2
            return reply(200, self.oauth.me(member))
        if not self._discord_authorized(request):
            return reply(401, {"message": "401: Unauthorized", "code": 0})
        return reply(200, _user("1000", "xpsync-sandbox", bot=True))

    async def _discord_application(self, request: web.Request) -> web.Response:
        if not self._discord_authorized(request):
            return reply(401, {"message": "401: Unauthorized", "code": 0})
        return reply(200, {"id": "1000", "name": "xpsync-sandbox", "icon": None, "description": "",
                           "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                           "owner": _user("1", "owner"), "flags": 0})

    async def _discord_interaction(self, request: web.Request) -> web.Response:
        """An interaction's answer (slash command replies): recorded for the tests to read."""
        body = await request.json()
        interaction_id = request.match_info["id"]
        with self.discord.lock:
            self.discord.interaction_replies.append(
                InteractionReply(interaction_id, int(body.get("type", 0)), body.get("data") or {}))
        self._record("discord", request, 200)
        return _discord_reply(200, {"interaction": {"id": interaction_id, "type": 2}}, bucket="interactions")

    async def _discord_member(self, request: web.Request) -> web.Response:
        if not self._discord_authorized(request):
            return reply(401, {"message": "401: Unauthorized", "code": 0})
        if (faulty := await self._fault("discord", request)) is not None:
            return faulty
        guild, member = request.match_info["guild"], request.match_info["member"]
        with self.discord.lock:
            if guild in self.discord.open_guilds:
                self.discord.members.setdefault(guild, {}).setdefault(member, set())
            roles = self.discord.members.get(guild, {}).get(member)
            roles = None if roles is None else sorted(roles)
        if roles is None:
            self._record("discord", request, 404)
            return _discord_reply(404, {"message": "Unknown Member", "code": 10007}, bucket="member")
        self._record("discord", request, 200)
        return _discord_reply(200, bucket="member", data={
            "user": _user(member, f"member-{member}"), "nick": None, "avatar": None, "roles": roles,
            "joined_at": "2024-01-01T00:00:00+00:00", "premium_since": None, "deaf": False, "mute": False,
            "flags": 0, "pending": False,
        })

    async def _discord_role(self, request: web.Request) -> web.Response:
        if not self._discord_authorized(request):
            return reply(401, {"message": "401: Unauthorized", "code": 0})
        if (faulty := await self._fault("discord", request)) is not None:
            return faulty
        guild, member, role = (request.match_info[k] for k in ("guild", "member", "role"))
        reason = unquote(request.headers.get("X-Audit-Log-Reason", ""))
        state = self.discord
        with state.lock:
            roles = state.members.get(guild, {}).get(member)
            if roles is None:
                status, body = 404, {"message": "Unknown Member", "code": 10007}
            elif role not in state.guild_roles.get(guild, set()) and guild not in state.open_guilds:
                status, body = 404, {"message": "Unknown Role", "code": 10011}
            elif role in state.forbidden_roles.get(guild, set()):
                status, body = 403, {"message": "Missing Permissions", "code": 50013}
            else:
                action = "add" if request.method == "PUT" else "remove"
                (roles.add if action == "add" else roles.discard)(role)
                state.role_changes.append(RoleChange(time.time(), guild, member, role, action, reason))
                status, body = 204, None
        self._record("discord", request, status)
        return _discord_reply(status, body, bucket="member-role")

    async def _arrivals(self, request: web.Request) -> web.Response:
        """Control endpoint (not part of either API), for a sandbox in another process: when the
        first call about each account arrived (Telegram: chat id; Discord: member id)."""
        platform, first = request.match_info["platform"], {}
        with self._calls_lock:
            calls = [c for c in self.calls if c.platform == platform]
        for call in calls:
            account = call.path.split("/members/")[1].split("/")[0] if platform == "discord" else None
            if account is not None:
                first.setdefault(account, call.at)
        if platform == "telegram":
            with self.telegram.lock:
                for m in self.telegram.messages:
                    first.setdefault(m.chat_id, m.at)
        return reply(200, first)

    # --- Telegram --------------------------------------------------------------------------------

    async def _telegram(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.telegram.token:
            return reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        if method == "getMe":
            return reply(200, {"ok": True, "result": {
                "id": 42, "is_bot": True, "first_name": "xpsync", "username": "xpsync_sandbox_bot",
            }})
        if method in ("answerCallbackQuery", "deleteWebhook", "setMyCommands"):
            return reply(200, {"ok": True, "result": True})
        if method == "editMessageReplyMarkup":
            form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
            markup = form.get("reply_markup")
            self.telegram.edit(str(form.get("chat_id", "")), int(form.get("message_id", 0)),
                               json.loads(markup) if isinstance(markup, str) else markup)
            return reply(200, {"ok": True, "result": True})
        if method == "getUpdates":
            await asyncio.sleep(0.5)  # a short long-poll with nothing new
            return reply(200, {"ok": True, "result": []})
        if method != "sendMessage":
            return reply(404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
        if (faulty := await self._fault("telegram", request)) is not None:
            return faulty
        form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        chat_id, text = str(form.get("chat_id", "")), str(form.get("text", ""))
        if not chat_id.lstrip("-").isdigit():
            self._record("telegram", request, 400)
            return reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        if chat_id in self.telegram.blocked:
            self._record("telegram", request, 403)
            return reply(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        markup = form.get("reply_markup")
        sent = self.telegram.record(chat_id, text, json.loads(markup) if isinstance(markup, str) else markup)
        self._record("telegram", request, 200)
        return reply(200, {"ok": True, "result": {
            "message_id": sent.message_id, "date": int(sent.at), "text": text,
            "chat": {"id": int(chat_id), "type": "private"},
        }})


# A generous bucket on every answer, as Discord sends one: without these headers
# discord.py allows a single request in flight per route and guild.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "9999", "X-RateLimit-Reset-After": "1.0",
}


def _discord_reply(status: int, data: Any = None, *, bucket: str) -> web.Response:
    return reply(status, data, {**RATE_LIMIT_HEADERS, "X-RateLimit-Bucket": bucket})


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": None, "avatar": None, "bot": bot}


def _discord_fault(fault: Fault) -> web.Response:
    if fault.kind == "429":
        return reply(429, {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": False},
                     {"Via": "1.1 google", "Retry-After": str(fault.retry_after)})
    if fault.kind == "403":
        return reply(403, {"message": "Missing Permissions", "code": 50013})
    return reply(503, {"message": "Service Unavailable", "code": 0})


def _telegram_fault(fault: Fault) -> web.Response:
    if fault.kind == "429":
        after = max(1, round(fault.retry_after))
        return reply(429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {after}",
                           "parameters": {"retry_after": after}})
    if fault.kind == "403":
        return reply(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    return reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


class SandboxThread:
    """The sandbox on its own event loop in a background thread (for sync code and other processes)."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox or Sandbox()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="xpsync-sandbox", daemon=True)

    def __enter__(self) -> Sandbox:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(), self._loop).result(10)
        return self.sandbox

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sandbox.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
