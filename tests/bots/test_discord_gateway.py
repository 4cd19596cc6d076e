"""The real Discord bot connected to the sandbox's gateway: events arrive as Discord sends them, a
dropped connection ends in a new session (on_ready again), and role changes come back as member updates."""

from __future__ import annotations

import asyncio

import pytest
import yarl
from discord.gateway import DiscordWebSocket

from tests.bots.test_discord_bot import Clock, voice_xp
from tests.helpers import call, scalar
from tests.listener.conftest import discord_handler, eventually, running, statuses
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


def resyncs(conn) -> int:
    return scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'roles_resync'")


async def test_the_listeners_own_role_changes_ask_for_nothing_and_drift_by_hand_is_put_back(online, sandbox, conn,
                                                                                             pool, db_url):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('77', 2, '202'), ('77', 3, '203')")
    sandbox.discord.add_guild("77", ["202", "203", "900"])
    sandbox.discord.add_member("77", "555", ["900"])  # 900: a role xpsync does not manage
    sandbox.gateway.add_guild("77", [])
    call(conn, "award_xp", "discord", "555", 300, "r", "k1")  # rank 2
    await online.connect()
    guild = online.bot.get_guild(77)

    async def roles_are(*wanted: str) -> None:
        """The member holds these roles, the bot has heard of every change, and every delivery is done."""
        await eventually(lambda: sandbox.discord.roles_of("77", "555") == set(wanted))
        await eventually(lambda: {str(r.id) for r in guild.get_member(555).roles} == {"77", *wanted})
        await settled("on_member_update")
        await eventually(lambda: statuses(conn, "discord").keys() <= {"done"})

    async with running(pool, db_url, await discord_handler(sandbox, pool)):
        await roles_are("202", "900")  # the listener's +202 came back as a member update
        call(conn, "award_xp", "discord", "555", 500, "r", "k2")  # rank 3: +203, then -202, two updates
        await roles_are("203", "900")
        assert resyncs(conn) == 0  # changes towards the plan ask for nothing
        sandbox.discord.set_roles("77", "555", ["203"])  # a moderator takes away an unmanaged role
        await roles_are("203")
        assert resyncs(conn) == 0
        sandbox.discord.set_roles("77", "555", [])  # ... and the rank role: drift
        await roles_are("203")  # put back
        assert resyncs(conn) == 1
        sandbox.discord.set_roles("77", "555", ["202", "203"])  # a managed role nobody should hold
        await roles_are("203")  # taken away again
        assert resyncs(conn) == 2
    granted = [c for c in sandbox.discord.role_changes if c.role_id == "203" and c.action == "add"]
    assert len(granted) == 2  # the first grant and the one put back: no resync storm
