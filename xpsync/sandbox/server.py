"""A loopback HTTP server that stands in for the Discord REST API and the Telegram Bot API.

The real discord.py and aiogram clients talk to it through DISCORD_API_BASE and
TELEGRAM_API_BASE. Each platform lives in its own module (discord.py,
telegram.py); this one wires them into one aiohttp application on 127.0.0.1,
with a control endpoint for a sandbox in another process. Both meet the real
platforms' limits and refusals by default (`limits=Limits()`, limits.py lists
every knob); `Limits.lifted()` takes the rate limits away for throughput
benchmarks. Faults (429s, global and HTML 429s, JSON and HTML 5xx, 403, slow
answers) are switched on through `Sandbox.faults` (faults.py).
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from . import discord, telegram
from .faults import Faults
from .followups import FollowUps
from .gateway import PATH as GATEWAY_PATH
from .gateway import Gateway
from .limits import Limits
from .oauth import OAuthApp
from .state import Call, DiscordState, TelegramState
from .traffic import Traffic, reply

DISCORD_PREFIX = discord.PREFIX
DISCORD_PAGES = "/discord"
TELEGRAM_PREFIX = telegram.PREFIX


class Sandbox:
    """Fake Discord and Telegram on 127.0.0.1; start it in the running event loop."""

    def __init__(self, *, discord_token: str = "sandbox-discord-token", telegram_token: str = "1:sandbox",
                 limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.discord = DiscordState(discord_token)
        self.telegram = TelegramState(telegram_token)
        self.faults = Faults()
        self.traffic = Traffic(self.faults)
        self.gateway = Gateway(self.discord)
        self.followups = FollowUps(self.traffic)
        self.oauth = OAuthApp()
        self.discord_api = discord.DiscordApi(self.discord, self.traffic, self.limits, self.oauth)
        self.telegram_api = telegram.TelegramApi(self.telegram, self.traffic, self.limits)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def calls(self) -> list[Call]:
        return self.traffic.calls

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
        return self.traffic.calls_to(platform, method)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        self.discord_api.add_routes(app)
        self.oauth.routes(app.router, DISCORD_PREFIX, DISCORD_PAGES)
        self.telegram_api.add_routes(app)
        self.followups.add_routes(app)
        self.gateway.add_routes(app)
        app.router.add_get("/_sandbox/{platform}/arrivals", self._arrivals)
        app.router.add_get("/_sandbox/{platform}/answers", self._answers)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.gateway.url = f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}/"

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _answers(self, request: web.Request) -> web.Response:
        """Control endpoint: how many answers of each HTTP status the platform gave (429s: refused for a limit)."""
        counts: dict[str, int] = {}
        for call in self.traffic.calls_to(request.match_info["platform"]):
            counts[str(call.status)] = counts.get(str(call.status), 0) + 1
        return reply(200, counts)

    async def _arrivals(self, request: web.Request) -> web.Response:
        """Control endpoint (not part of either API), for a sandbox in another process: when the
        first call about each account arrived (Telegram: chat id; Discord: member id)."""
        platform = request.match_info["platform"]
        first: dict[str, float] = {}
        for call in self.traffic.calls_to(platform):
            member = call.path.partition("/members/")[2] if platform == "discord" else ""
            account = member.split("/")[0] or None  # Discord's member calls only (not logging in)
            if account is not None:
                first.setdefault(account, call.at)
        if platform == "telegram":
            with self.telegram.lock:
                for m in self.telegram.messages:
                    first.setdefault(m.chat_id, m.at)
        return reply(200, first)


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
