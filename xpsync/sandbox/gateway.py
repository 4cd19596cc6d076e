"""The fake Discord gateway: the websocket a bot's discord.py client keeps open for events.

It speaks the part of the protocol a bot meets: HELLO, heartbeats and their
ACK, IDENTIFY answered with READY and one GUILD_CREATE per guild (members,
roles, voice channels, voice states: a guild that needs no chunking), and
dispatches VOICE_STATE_UPDATE and GUILD_MEMBER_UPDATE. Discord sends a member
update for every role change, the bot's own REST calls included, and so does
this gateway (DiscordState.role_watchers). A session is never resumed (RESUME
gets INVALID_SESSION), so a dropped connection ends in a new IDENTIFY and a
second READY: `on_ready` fires again and the events missed meanwhile are lost,
as they are when Discord cannot resume a session.

discord.py connects to `DiscordWebSocket.DEFAULT_GATEWAY`; point it at `url`.
Ids are snowflakes (digits), as discord.py requires.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .state import DiscordState

log = logging.getLogger(__name__)

PATH = "/discord/gateway"
BOT_USER = {"id": "1000", "username": "xpsync-sandbox", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True}
HELLO, HEARTBEAT, IDENTIFY, RESUME, HEARTBEAT_ACK, INVALID_SESSION = 10, 1, 2, 6, 11, 9
AUTHENTICATION_FAILED = 4004


@dataclass
class VoiceState:
    channel_id: str
    self_mute: bool = False


@dataclass
class GatewayGuild:
    voice_channels: list[str]
    afk_channel_id: str | None = None
    voice: dict[str, VoiceState] = field(default_factory=dict)  # member id -> where they are


class _Session:
    """One open connection: dispatches go out in order through one queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.identified = False
        self.seq = 0
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        self.queue.put_nowait({"op": 0, "t": event, "s": self.seq, "d": data})

    async def write(self) -> None:
        while True:
            payload = await self.queue.get()
            await self.ws.send_str(json.dumps(payload))


class Gateway:
    def __init__(self, state: DiscordState) -> None:
        self.state = state
        self.guilds: dict[str, GatewayGuild] = {}
        self.url = ""  # ws://127.0.0.1:PORT/discord/gateway/, set when the sandbox starts
        self.identified = 0  # IDENTIFYs answered with READY
        self._sessions: set[_Session] = set()
        self._online = asyncio.Event()
        self._online.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._waiting = 0
        self._closed = False
        state.role_watchers.append(self.member_changed)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.connect)
        app.router.add_get(PATH + "/", self.connect)

    # --- what a test changes ------------------------------------------------------------------------

    def add_guild(self, guild_id: str, voice_channels: list[str], *, afk_channel_id: str | None = None) -> None:
        """A guild the bot is in, with these voice channels (its members and roles: DiscordState)."""
        self.guilds[guild_id] = GatewayGuild(list(voice_channels), afk_channel_id)
        self.state.guild_roles.setdefault(guild_id, set())
        self.state.members.setdefault(guild_id, {})

    def voice(self, guild_id: str, member_id: str, channel_id: str | None, *, self_mute: bool = False) -> None:
        """A member joins, moves, mutes or (channel None) leaves voice; connected bots are told."""
        guild = self.guilds[guild_id]
        if channel_id is None:
            guild.voice.pop(member_id, None)
        else:
            guild.voice[member_id] = VoiceState(channel_id, self_mute)
        self._broadcast("VOICE_STATE_UPDATE", {"guild_id": guild_id, "member": self._member(guild_id, member_id),
                                                **self._voice_state(member_id, channel_id, self_mute)})

    def member_changed(self, guild_id: str, member_id: str) -> None:
        """A member's roles changed (through REST or by hand): connected bots get GUILD_MEMBER_UPDATE."""
        if guild_id in self.guilds:
            self._broadcast("GUILD_MEMBER_UPDATE", {"guild_id": guild_id, **self._member(guild_id, member_id)})

    async def go_offline(self) -> None:
        """Drop every connection and hold new ones (they wait, as behind a network outage) until go_online."""
        self._online.clear()
        for session in list(self._sessions):
            await session.ws.close(code=4000, message=b"sandbox: connection dropped")

    def go_online(self) -> None:
        self._online.set()

    async def close(self) -> None:
        """Before the sandbox stops: every connection closed, waiting ones refused."""
        self._closed = True
        self._online.set()
        for session in list(self._sessions):
            await session.ws.close(code=1001, message=b"sandbox: going away")

    @property
    def waiting(self) -> bool:
        """A client is trying to connect while the gateway is offline."""
        return self._waiting > 0

    # --- the protocol -------------------------------------------------------------------------------

    async def connect(self, request: web.Request) -> web.StreamResponse:
        self._loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            await self._online.wait()
        finally:
            self._waiting -= 1
        if self._closed:
            return web.Response(status=503, text="sandbox stopped")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _Session(ws)
        self._sessions.add(session)
        writer = asyncio.create_task(session.write(), name="sandbox-gateway-writer")
        session.queue.put_nowait({"op": HELLO, "d": {"heartbeat_interval": 41250}})
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._received(session, json.loads(message.data))
        finally:
            self._sessions.discard(session)
            writer.cancel()
        return ws

    async def _received(self, session: _Session, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        if op == HEARTBEAT:
            session.queue.put_nowait({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            if (payload.get("d") or {}).get("token") != self.state.token:
                await session.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            self.identified += 1
            session.dispatch("READY", {
                "v": 10, "user": BOT_USER, "session_id": f"sandbox-session-{next(self._ids)}",
                "resume_gateway_url": self.url, "application": {"id": BOT_USER["id"], "flags": 0},
                "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
                "private_channels": [], "relationships": [], "user_settings": {}, "session_type": "normal",
            })
            for guild_id in self.guilds:
                session.dispatch("GUILD_CREATE", self._guild(guild_id))
            session.identified = True
        elif op == RESUME:
            session.queue.put_nowait({"op": INVALID_SESSION, "d": False})

    def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every identified session, from whatever thread the change came."""
        if self._loop is None:
            return  # nobody ever connected
        def send() -> None:
            for session in self._sessions:
                if session.identified:
                    session.dispatch(event, data)
        self._loop.call_soon_threadsafe(send)

    # --- payloads -----------------------------------------------------------------------------------

    def _member(self, guild_id: str, member_id: str) -> dict[str, Any]:
        roles = sorted(self.state.roles_of(guild_id, member_id))
        return {"user": {"id": member_id, "username": f"member-{member_id}", "discriminator": "0",
                         "global_name": None, "avatar": None, "bot": False},
                "roles": roles, "nick": None, "avatar": None, "joined_at": "2024-01-01T00:00:00+00:00",
                "premium_since": None, "deaf": False, "mute": False, "flags": 0, "pending": False}

    def _voice_state(self, member_id: str, channel_id: str | None, self_mute: bool) -> dict[str, Any]:
        return {"user_id": member_id, "channel_id": channel_id, "session_id": f"voice-{member_id}",
                "deaf": False, "mute": False, "self_deaf": False, "self_mute": self_mute,
                "self_video": False, "suppress": False, "request_to_speak_timestamp": None}

    def _guild(self, guild_id: str) -> dict[str, Any]:
        guild = self.guilds[guild_id]
        with self.state.lock:
            member_ids = sorted(self.state.members.get(guild_id, {}))
            role_ids = sorted(self.state.guild_roles.get(guild_id, set()))
        roles: list[dict[str, Any]] = [
            {"id": r, "name": "@everyone" if r == guild_id else f"role-{r}", "color": 0, "hoist": False,
             "position": i, "permissions": "0", "managed": False, "mentionable": False, "flags": 0}
            for i, r in enumerate([guild_id, *role_ids])]
        channels: list[dict[str, Any]] = [
            {"id": c, "type": 2, "name": f"voice-{c}", "position": i, "guild_id": guild_id,
             "permission_overwrites": [], "bitrate": 64000, "user_limit": 0, "rtc_region": None,
             "parent_id": None, "nsfw": False}
            for i, c in enumerate(guild.voice_channels)]
        return {
            "id": guild_id, "name": f"guild-{guild_id}", "unavailable": False, "owner_id": "1",
            "afk_channel_id": guild.afk_channel_id, "afk_timeout": 300, "member_count": len(member_ids),
            "large": False, "features": [], "emojis": [], "stickers": [], "threads": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "roles": roles, "channels": channels, "members": [self._member(guild_id, m) for m in member_ids],
            "voice_states": [self._voice_state(m, v.channel_id, v.self_mute) for m, v in sorted(guild.voice.items())],
            "joined_at": "2024-01-01T00:00:00+00:00", "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "system_channel_flags": 0,
        }
