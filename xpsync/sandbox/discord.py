"""The fake Discord REST API: the bot user, guild members and their roles, interaction answers.

It answers as Discord does (the knobs are in limits.py):

- every request of the bot counts against a global limit (50 a second); past
  it, a global 429 (`"global": true`, `X-RateLimit-Global`, `X-RateLimit-Scope:
  global`, `Retry-After`), which a `429-global` fault stretches to its
  `retry_after` (Discord's example: 64.57 s);
- each route has a bucket announced by `X-RateLimit-Limit`, `-Remaining`,
  `-Reset`, `-Reset-After` and `-Bucket` on every answer: member reads and
  member role edits (PUT and DELETE share one) per guild, in fixed windows;
  past it, a 429 with the bucket's headers and `X-RateLimit-Scope: user`;
- 401, 403 and 429 answers are invalid requests: 10 000 of them in 10 minutes
  get the IP banned, and Cloudflare answers an HTML 429 to everything;
- ids in the path must be snowflakes (400 Invalid Form Body, 50035); then
  Unknown Guild 10004, Missing Access 50001, Unknown Member 10007, Unknown
  User 10013, Unknown Role 10011, Missing Permissions 50013, as Discord's JSON;
- a direct message takes two calls, as on Discord: open the channel (`POST
  /users/@me/channels`), then send to it (`POST /channels/{c}/messages`, 5 per
  5 s per channel); a user who accepts no direct messages, or shares no guild
  with the bot, gets 403 Cannot send messages to this user (50007);
- an interaction must be answered within 3 seconds of its creation (its id is
  a snowflake, so the sandbox reads the time from it): later, Unknown
  interaction (10062); twice, already acknowledged (40060).

JSON 429s carry `Via: 1.1 google` as Discord's do (discord.py takes a 429
without it for a Cloudflare ban).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .faults import Fault
from .limits import FixedWindows, Limits, Window, whole_seconds
from .oauth import OAuthApp
from .state import DirectMessage, DiscordState, InteractionReply, RoleChange, Upload, snowflake_time
from .traffic import Traffic, html, html_page, message_payload, reply

PREFIX = "/discord/api/v10"
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
SNOWFLAKE = re.compile(r"\d{1,20}")
VIA = {"Via": "1.1 google"}
# routes without a bucket of their own in the sandbox still announce a generous one: without the
# headers discord.py allows a single request in flight per route
OTHER = Window(10_000, 1.0)
NO_BUCKET: dict[str, str] = {}
DM_CHANNELS, DM_MESSAGES = 1_100_000_000_000_000_000, 1_200_000_000_000_000_000  # the ids they are given
INVALID_FORM = {"message": "Invalid Form Body", "code": 50035}
UNNAMED_ATTACHMENT = {"message": "Invalid Form Body: an attachment is not named in payload_json", "code": 50035}
CLOUDFLARE_BAN = (
    "<!DOCTYPE html><html><head><title>Access denied | discord.com used Cloudflare to restrict access</title>"
    "</head><body><h1>Error 1015</h1><h2>You are being rate limited</h2><p>The owner of this website "
    "(discord.com) has banned you temporarily from accessing this website.</p></body></html>"
)


def bucket_hash(name: str) -> str:
    return hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


class DiscordApi:
    def __init__(self, state: DiscordState, traffic: Traffic, limits: Limits, oauth: OAuthApp | None = None) -> None:
        self.state = state
        self.traffic = traffic
        self.limits = limits
        self.oauth = oauth
        self.buckets = {
            "member": FixedWindows(limits.discord_member_reads),
            "member-roles": FixedWindows(limits.discord_role_edits),
            "channel-messages": FixedWindows(limits.discord_channel_messages),
            "dm": FixedWindows(OTHER),
            "other": FixedWindows(OTHER),
        }
        self.everything = FixedWindows(limits.discord_global) if limits.discord_global else None
        self.invalid = FixedWindows(limits.discord_invalid) if limits.discord_invalid else None
        self.global_until = 0.0  # a long global 429 (fault 429-global) lasts until then
        self.banned_until = 0.0  # Cloudflare's ban after too many invalid requests

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/users/@me", self.me)
        app.router.add_get(PREFIX + "/guilds/{guild}/members/{member}", self.member)
        app.router.add_route("PUT", PREFIX + "/guilds/{guild}/members/{member}/roles/{role}", self.role)
        app.router.add_route("DELETE", PREFIX + "/guilds/{guild}/members/{member}/roles/{role}", self.role)
        app.router.add_post(PREFIX + "/users/@me/channels", self.open_dm)
        app.router.add_post(PREFIX + "/channels/{channel}/messages", self.send_message)
        app.router.add_get(PREFIX + "/oauth2/applications/@me", self.application)
        app.router.add_post(PREFIX + "/interactions/{id}/{token}/callback", self.interaction)

    @property
    def banned(self) -> bool:
        return time.time() < self.banned_until

    # --- the gate every bot request passes ----------------------------------------------------------

    async def _gate(self, request: web.Request, bucket: str, major: str = "",
                    **ids: str) -> tuple[dict[str, str], web.Response | None]:
        """The headers of the request's bucket, and the refusal it gets before its route looks at it
        (None: go on). Faults are injected into the routes deliveries call (members, roles, direct
        messages), never into logging in."""
        now = time.time()
        if now < self.banned_until:
            return NO_BUCKET, self._answer(request, html(429, CLOUDFLARE_BAN, {"Retry-After": str(whole_seconds(
                self.banned_until - now))}))
        if request.headers.get("Authorization") != f"Bot {self.state.token}":
            return NO_BUCKET, self._answer(request, reply(401, UNAUTHORIZED))
        if bucket != "other" and (faulty := await self.traffic.fault("discord", request, self._fault)) is not None:
            return NO_BUCKET, self._answer(request, faulty, recorded=True)
        if now < self.global_until:
            return NO_BUCKET, self._answer(request, _global_429(self.global_until - now))
        if self.everything is not None:
            allowed, _, reset_after = self.everything.take("bot", now)
            if not allowed:
                return NO_BUCKET, self._answer(request, _global_429(reset_after))
        for name, value in ids.items():
            if not SNOWFLAKE.fullmatch(value) or int(value) >= 2**64:
                return NO_BUCKET, self._answer(request, reply(400, {
                    "message": "Invalid Form Body", "code": 50035, "errors": {name: {"_errors": [
                        {"code": "NUMBER_TYPE_COERCE", "message": f"Value \"{value}\" is not snowflake."}]}}}))
        allowed, remaining, reset_after = self.buckets[bucket].take(f"{bucket}:{major}", now)
        headers = _bucket_headers(bucket, self.buckets[bucket].window, remaining, now, reset_after)
        if not allowed:
            return headers, self._answer(request, reply(429, {
                "message": "You are being rate limited.", "retry_after": round(reset_after, 3), "global": False,
            }, {**headers, **VIA, "Retry-After": str(whole_seconds(reset_after)), "X-RateLimit-Scope": "user"}))
        return headers, None

    def _answer(self, request: web.Request, response: web.Response, *, recorded: bool = False) -> web.Response:
        """Record the answer (and count it when it is an invalid request: 401, 403, 429)."""
        if not recorded:
            self.traffic.record("discord", request, response.status)
        if self.invalid is not None and response.status in (401, 403, 429) \
                and response.headers.get("X-RateLimit-Scope") != "shared" and not self.banned:
            allowed, _, _ = self.invalid.take("ip", time.time())
            if not allowed:
                self.banned_until = time.time() + self.limits.discord_ban_seconds
        return response

    def _fault(self, fault: Fault) -> web.Response:
        if fault.kind == "429":
            return reply(429, {"message": "You are being rate limited.", "retry_after": fault.retry_after,
                               "global": False},
                         {**VIA, "Retry-After": str(whole_seconds(fault.retry_after)), "X-RateLimit-Scope": "user"})
        if fault.kind == "429-global":
            self.global_until = max(self.global_until, time.time() + fault.retry_after)
            return _global_429(fault.retry_after)
        if fault.kind == "429-html":
            return html(429, CLOUDFLARE_BAN, {"Retry-After": str(whole_seconds(fault.retry_after))})
        if fault.kind == "403":
            return reply(403, {"message": "Missing Permissions", "code": 50013})
        if fault.kind == "5xx-html":
            return html(502, html_page(502, "Bad Gateway", "cloudflare"))
        return reply(503, {"message": "Service Unavailable", "code": 0})

    def _done(self, request: web.Request, headers: dict[str, str], status: int, data: Any = None) -> web.Response:
        return self._answer(request, reply(status, data, headers))

    # --- routes ----------------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        if self.oauth is not None and (signed_in := self.oauth.bearer(request)) is not None:
            return reply(200, self.oauth.me(signed_in))  # a member signed in through OAuth2
        headers, refused = await self._gate(request, "other", "@me")
        if refused is not None:
            return refused
        return self._done(request, headers, 200, _user("1000", "xpsync-sandbox", bot=True))

    async def application(self, request: web.Request) -> web.Response:
        headers, refused = await self._gate(request, "other", "application")
        if refused is not None:
            return refused
        return self._done(request, headers, 200, {
            "id": "1000", "name": "xpsync-sandbox", "icon": None, "description": "", "bot_public": True,
            "bot_require_code_grant": False, "verify_key": "0" * 64, "owner": _user("1", "owner"), "flags": 0})

    def _guild_refusal(self, guild: str) -> tuple[int, dict[str, Any]] | None:
        if guild in self.state.left_guilds:
            return 403, {"message": "Missing Access", "code": 50001}
        if guild not in self.state.guild_roles and guild not in self.state.open_guilds:
            return 404, {"message": "Unknown Guild", "code": 10004}
        return None

    async def member(self, request: web.Request) -> web.Response:
        guild, member = request.match_info["guild"], request.match_info["member"]
        headers, refused = await self._gate(request, "member", guild, guild_id=guild, user_id=member)
        if refused is not None:
            return refused
        with self.state.lock:
            if (refusal := self._guild_refusal(guild)) is not None:
                return self._done(request, headers, *refusal)
            if member in self.state.deleted_users:
                return self._done(request, headers, 404, {"message": "Unknown User", "code": 10013})
            if guild in self.state.open_guilds:
                self.state.members.setdefault(guild, {}).setdefault(member, set())
            held = self.state.members.get(guild, {}).get(member)
            roles = None if held is None else sorted(held)
        if roles is None:
            return self._done(request, headers, 404, {"message": "Unknown Member", "code": 10007})
        return self._done(request, headers, 200, {
            "user": _user(member, f"member-{member}"), "nick": None, "avatar": None, "roles": roles,
            "joined_at": "2024-01-01T00:00:00+00:00", "premium_since": None, "deaf": False, "mute": False,
            "flags": 0, "pending": False,
        })

    async def role(self, request: web.Request) -> web.Response:
        guild, member, role = (request.match_info[k] for k in ("guild", "member", "role"))
        headers, refused = await self._gate(request, "member-roles", guild, guild_id=guild, user_id=member,
                                            role_id=role)
        if refused is not None:
            return refused
        reason = unquote(request.headers.get("X-Audit-Log-Reason", ""))
        state = self.state
        body: dict[str, Any] | None
        changed = False
        with state.lock:
            if guild in state.open_guilds:
                state.members.setdefault(guild, {}).setdefault(member, set())
            roles = state.members.get(guild, {}).get(member)
            if (refusal := self._guild_refusal(guild)) is not None:
                status, body = refusal
            elif member in state.deleted_users:
                status, body = 404, {"message": "Unknown User", "code": 10013}
            elif roles is None:
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
        return self._done(request, headers, status, body)

    async def open_dm(self, request: web.Request) -> web.Response:
        """Create DM: the user's direct-message channel (the same one every time)."""
        body = await _json_body(request)
        user = str(body.get("recipient_id", "")) if body is not None else ""
        headers, refused = await self._gate(request, "dm", "", recipient_id=user)
        if refused is not None:
            return refused
        with self.state.lock:
            if user in self.state.deleted_users:
                return self._done(request, headers, 404, {"message": "Unknown User", "code": 10013})
            channel = self.state.dm_channels.setdefault(user, str(DM_CHANNELS + len(self.state.dm_channels)))
        return self._done(request, headers, 200, {"id": channel, "type": 1, "last_message_id": None, "flags": 0,
                                                  "recipients": [_user(user, f"member-{user}")]})

    async def send_message(self, request: web.Request) -> web.Response:
        """Create Message in a direct-message channel the bot opened (other channels: Unknown Channel)."""
        channel = request.match_info["channel"]
        headers, refused = await self._gate(request, "channel-messages", channel, channel_id=channel)
        if refused is not None:
            return refused
        body = await _json_body(request)
        content = str(body.get("content") or "") if body is not None else ""
        if not content.strip():
            return self._done(request, headers, 400, {"message": "Cannot send an empty message", "code": 50006})
        if len(content) > 2000:
            return self._done(request, headers, 400, {
                "message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}})
        state = self.state
        with state.lock:
            user = next((u for u, c in state.dm_channels.items() if c == channel), None)
            if user is None:
                return self._done(request, headers, 404, {"message": "Unknown Channel", "code": 10003})
            if user in state.dm_closed or not state.shares_a_guild(user):
                return self._done(request, headers, 403, {"message": "Cannot send messages to this user",
                                                          "code": 50007})
            sent = DirectMessage(time.time(), user, channel, str(DM_MESSAGES + len(state.direct_messages)),
                                 content, body.get("allowed_mentions") if body is not None else None)
            state.direct_messages.append(sent)
        return self._done(request, headers, 200, {
            "id": sent.message_id, "channel_id": channel, "type": 0, "content": content, "tts": False,
            "author": _user("1000", "xpsync-sandbox", bot=True), "timestamp": "2024-01-01T00:00:00+00:00",
            "mentions": [], "attachments": [], "embeds": [], "pinned": False})

    async def interaction(self, request: web.Request) -> web.Response:
        """An interaction's first answer (a reply or a deferral): within its 3 seconds, once. With
        attachments it comes as multipart, as Discord takes it: `payload_json` and `files[n]`."""
        interaction_id = request.match_info["id"]
        if not SNOWFLAKE.fullmatch(interaction_id):
            return self._answer(request, reply(404, {"message": "Unknown interaction", "code": 10062}))
        body, files = await message_payload(request)
        if body is None:
            return self._answer(request, reply(400, INVALID_FORM))
        if unnamed(files, (body.get("data") or {}).get("attachments", [])):
            return self._answer(request, reply(400, UNNAMED_ATTACHMENT))
        deadline = self.limits.interaction_deadline
        with self.state.lock:
            answered = any(r.interaction_id == interaction_id for r in self.state.interaction_replies)
            late = deadline is not None and time.time() - snowflake_time(interaction_id) > deadline
            if not (answered or late):
                self.state.interaction_replies.append(
                    InteractionReply(interaction_id, int(body.get("type", 0)), body.get("data") or {}, files))
        if answered:
            return self._answer(request, reply(400, {"message": "Interaction has already been acknowledged.",
                                                     "code": 40060}))
        if late:
            return self._answer(request, reply(404, {"message": "Unknown interaction", "code": 10062}))
        self.traffic.record("discord", request, 200)
        return reply(200, {"interaction": {"id": interaction_id, "type": 2}},
                     _bucket_headers("interactions", OTHER, OTHER.limit - 1, time.time(), OTHER.seconds))


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    """A JSON object sent as the request's body, or None (not JSON, not an object)."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def unnamed(files: tuple[Upload, ...], attachments: list[dict[str, Any]]) -> bool:
    """A file sent that the message's `attachments` do not name (Discord refuses it)."""
    return bool({f.filename for f in files} - {a.get("filename") for a in attachments})


def _bucket_headers(name: str, window: Window, remaining: int, now: float, reset_after: float) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(window.limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{now + reset_after:.3f}", "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(name)}


def _global_429(retry_after: float) -> web.Response:
    return reply(429, {"message": "You are being rate limited.", "retry_after": round(retry_after, 3), "global": True},
                 {**VIA, "Retry-After": str(whole_seconds(retry_after)), "X-RateLimit-Global": "true",
                  "X-RateLimit-Scope": "global"})


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": None, "avatar": None, "bot": bot}
