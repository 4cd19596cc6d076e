"""The fake Discord REST API: the bot user, guild members and their roles, interaction answers.

Answers carry rate-limit bucket headers as Discord's do, and errors carry
Discord's JSON codes (10007 Unknown Member, 10011 Unknown Role, 50013 Missing
Permissions).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .faults import Fault
from .oauth import OAuthApp
from .state import DiscordState, InteractionReply, RoleChange, Upload
from .traffic import Traffic, message_payload, reply

PREFIX = "/discord/api/v10"

# A generous bucket on every answer, as Discord sends one: without these headers
# discord.py allows a single request in flight per route and guild.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "9999", "X-RateLimit-Reset-After": "1.0",
}
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
INVALID_FORM = {"message": "Invalid Form Body", "code": 50035}
UNNAMED_ATTACHMENT = {"message": "Invalid Form Body: an attachment is not named in payload_json", "code": 50035}


class DiscordApi:
    def __init__(self, state: DiscordState, traffic: Traffic, oauth: OAuthApp | None = None) -> None:
        self.state = state
        self.traffic = traffic
        self.oauth = oauth

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/users/@me", self.me)
        app.router.add_get(PREFIX + "/guilds/{guild}/members/{member}", self.member)
        app.router.add_route("PUT", PREFIX + "/guilds/{guild}/members/{member}/roles/{role}", self.role)
        app.router.add_route("DELETE", PREFIX + "/guilds/{guild}/members/{member}/roles/{role}", self.role)
        app.router.add_get(PREFIX + "/oauth2/applications/@me", self.application)
        app.router.add_post(PREFIX + "/interactions/{id}/{token}/callback", self.interaction)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.state.token}"

    async def me(self, request: web.Request) -> web.Response:
        if self.oauth is not None and (member := self.oauth.bearer(request)) is not None:
            return reply(200, self.oauth.me(member))  # a member signed in through OAuth2
        if not self._authorized(request):
            return reply(401, UNAUTHORIZED)
        return reply(200, _user("1000", "xpsync-sandbox", bot=True))

    async def application(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return reply(401, UNAUTHORIZED)
        return reply(200, {"id": "1000", "name": "xpsync-sandbox", "icon": None, "description": "",
                           "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                           "owner": _user("1", "owner"), "flags": 0})

    async def interaction(self, request: web.Request) -> web.Response:
        """An interaction's answer (slash command replies): recorded for the tests to read. With
        attachments it comes as multipart, as Discord takes it: `payload_json` and `files[n]`."""
        body, files = await message_payload(request)
        if body is None:
            return reply(400, INVALID_FORM)
        if unnamed(files, (body.get("data") or {}).get("attachments", [])):
            return reply(400, UNNAMED_ATTACHMENT)
        interaction_id = request.match_info["id"]
        with self.state.lock:
            self.state.interaction_replies.append(
                InteractionReply(interaction_id, int(body.get("type", 0)), body.get("data") or {}, files))
        self.traffic.record("discord", request, 200)
        return _bucketed(200, {"interaction": {"id": interaction_id, "type": 2}}, bucket="interactions")

    async def member(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return reply(401, UNAUTHORIZED)
        if (faulty := await self.traffic.fault("discord", request, _fault)) is not None:
            return faulty
        guild, member = request.match_info["guild"], request.match_info["member"]
        with self.state.lock:
            if guild in self.state.open_guilds:
                self.state.members.setdefault(guild, {}).setdefault(member, set())
            held = self.state.members.get(guild, {}).get(member)
            roles = None if held is None else sorted(held)
        if roles is None:
            self.traffic.record("discord", request, 404)
            return _bucketed(404, {"message": "Unknown Member", "code": 10007}, bucket="member")
        self.traffic.record("discord", request, 200)
        return _bucketed(200, bucket="member", data={
            "user": _user(member, f"member-{member}"), "nick": None, "avatar": None, "roles": roles,
            "joined_at": "2024-01-01T00:00:00+00:00", "premium_since": None, "deaf": False, "mute": False,
            "flags": 0, "pending": False,
        })

    async def role(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return reply(401, UNAUTHORIZED)
        if (faulty := await self.traffic.fault("discord", request, _fault)) is not None:
            return faulty
        guild, member, role = (request.match_info[k] for k in ("guild", "member", "role"))
        reason = unquote(request.headers.get("X-Audit-Log-Reason", ""))
        state = self.state
        body: dict[str, Any] | None
        changed = False
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
                changed = (role in roles) != (action == "add")
                (roles.add if action == "add" else roles.discard)(role)
                state.role_changes.append(RoleChange(time.time(), guild, member, role, action, reason))
                status, body = 204, None
        if status == 204 and changed:
            state.roles_changed(guild, member)  # Discord sends GUILD_MEMBER_UPDATE for every change
        self.traffic.record("discord", request, status)
        return _bucketed(status, body, bucket="member-role")


def unnamed(files: tuple[Upload, ...], attachments: list[dict[str, Any]]) -> bool:
    """A file sent that the message's `attachments` do not name (Discord refuses it)."""
    return bool({f.filename for f in files} - {a.get("filename") for a in attachments})


def _bucketed(status: int, data: Any = None, *, bucket: str) -> web.Response:
    return reply(status, data, {**RATE_LIMIT_HEADERS, "X-RateLimit-Bucket": bucket})


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": None, "avatar": None, "bot": bot}


def _fault(fault: Fault) -> web.Response:
    if fault.kind == "429":
        return reply(429, {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": False},
                     {"Via": "1.1 google", "Retry-After": str(fault.retry_after)})
    if fault.kind == "403":
        return reply(403, {"message": "Missing Permissions", "code": 50013})
    return reply(503, {"message": "Service Unavailable", "code": 0})
