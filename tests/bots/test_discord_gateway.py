"""The real Discord bot connected to the sandbox's gateway: events arrive as Discord sends them, a
dropped connection ends in a new session (on_ready again), and role changes come back as member updates."""

from __future__ import annotations

import asyncio

import pytest
import yarl
from discord.gateway import DiscordWebSocket

from tests.bots.test_discord_bot import Clock, voice_xp
from tests.listener.conftest import eventually
from xpsync.bots.discord.client import XpBot
from xpsync.bots.discord.voice_tracker import VoiceTracker
from xpsync.platforms.discord_client import use_api_base


class Online:
    """The bot logged in over REST; `connect()` opens its gateway session and waits for on_ready."""

    def __init__(self, bot: XpBot, sandbox) -> None:
        self.bot, self.sandbox = bot, sandbox
        self.readies = 0
        self.task: asyncio.Task | None = None

        async def ready() -> None:
            self.readies += 1
        bot.add_listener(ready, "on_ready")

    async def connect(self) -> None:
        self.task = asyncio.create_task(self.bot.connect(), name="test-gateway")
        await self.ready(1)

    async def ready(self, n: int) -> None:
        """The n-th on_ready has fired and every handler of it has finished."""
        await eventually(lambda: self.readies >= n)
        await settled("on_ready")


async def settled(event: str) -> None:
    """Every handler discord.py started for `event` has finished."""
    await eventually(lambda: not [t for t in asyncio.all_tasks() if t.get_name() == f"discord.py: {event}"])


@pytest.fixture
async def online(pool, sandbox, monkeypatch):
    use_api_base(sandbox.discord_api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(sandbox.gateway.url))
    bot = XpBot(pool, sync_commands=False)
    bot._connection.guild_ready_timeout = 0.05  # ready as soon as the GUILD_CREATEs are in

    async def identify_at_once(shard_id, *, initial=False):  # discord.py waits 5 s before identifying again
        return None
    monkeypatch.setattr(bot, "before_identify_hook", identify_at_once)
    await bot.login(sandbox.discord.token)
    session = Online(bot, sandbox)
    yield session
    await bot.close()
    if session.task is not None:
        await asyncio.wait_for(session.task, 10)


async def test_voice_of_members_who_left_while_the_gateway_was_away_ends_at_the_loss(online, sandbox, conn):
    gateway = sandbox.gateway
    sandbox.discord.add_guild("77", [])
    for member in ("1", "2"):
        sandbox.discord.add_member("77", member)
    gateway.add_guild("77", ["10"])
    gateway.voice("77", "1", "10")
    gateway.voice("77", "2", "10")
    clock = Clock()
    cog = online.bot.get_cog("VoiceXp")
    cog.tracker = VoiceTracker(clock=clock)
    await online.connect()
    assert set(cog.tracker.sessions) == {("77", "1"), ("77", "2")}  # both in voice, together: eligible
    clock.now = 120
    await gateway.go_offline()
    await eventually(lambda: gateway.waiting)  # the bot lost the gateway and is trying to come back
    gateway.voice("77", "2", None)  # 2 leaves while the bot cannot see it
    clock.now = 3720  # an hour later the gateway is back: a new session, on_ready again
    gateway.go_online()
    await online.ready(2)
    assert gateway.identified == 2
    await cog.report()
    # 2 min each, together; nobody is paid for the hour nobody could see; 1 is alone now
    assert (voice_xp(conn, "1"), voice_xp(conn, "2")) == (6, 6)
    assert set(cog.tracker.sessions) == {("77", "1")}
    clock.now = 7320
    await cog.report()
    assert voice_xp(conn, "1") == 6  # alone: still nothing
