"""Guild messages count for XP (the database applies the cooldown and the minimum length)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from ...api import Xp

if TYPE_CHECKING:
    from ..client import XpBot


class Chat(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or message.content.startswith(("/", "!")):
            return
        await self.xp.record_message(str(message.author.id), str(message.channel.id), str(message.id),
                                     len(message.content), message.author.display_name)


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Chat(bot.xp))
