"""`xpsync bot discord`: the bot, its intents, one pool handed to every cog."""

from __future__ import annotations

import asyncio
import logging
import signal

import discord
from discord.ext import commands
from psycopg_pool import AsyncConnectionPool

from xpsync.config_watch import presence
from xpsync.db import create_pool, database_url
from xpsync.platforms.discord_client import token_checked, use_api_base
from xpsync.settings import ConfigError, Settings

from ..api import Xp
from .errors import on_app_command_error

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Members (joins, role edits), voice states and message content: enable all three in the portal."""
    wanted = discord.Intents.default()
    wanted.members = True
    wanted.voice_states = True
    wanted.message_content = True
    return wanted


# one extension per cog, each file's setup() adds it (cogs/<name>.py)
COGS = ("linking", "profile", "privacy", "roles", "chat", "voice", "quests", "shop")


class XpBot(commands.Bot):
    def __init__(self, pool: AsyncConnectionPool, *, sync_commands: bool = True) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents())
        self.pool = pool
        self.xp = Xp(pool, "discord")
        self.sync_commands = sync_commands
        self.tree.error(on_app_command_error)

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.load_extension(f"{__package__}.cogs.{cog}")
        if self.sync_commands:
            await self.tree.sync()


async def run(settings: Settings) -> int:
    token = settings.require_discord_token()
    use_api_base(settings.discord_api_base)
    url = database_url(settings)
    pool = create_pool(url, max_size=8, name="xpsync-bot-discord")
    await pool.open(wait=True, timeout=30)
    try:
        async with XpBot(pool) as bot, presence(pool, url, "bot:discord", bot.xp):  # heartbeats, changes taken up
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):  # close the gateway; cogs report voice time on unload
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
            try:
                with token_checked():
                    await bot.start(token)
            except discord.PrivilegedIntentsRequired as exc:
                raise ConfigError("enable the Server Members and Message Content intents of the bot in the "
                                  "Discord Developer Portal") from exc
        return 0
    finally:
        await pool.close()
