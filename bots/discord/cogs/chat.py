"""Guild messages count for XP (the database applies the cooldown and the minimum length), buffered
for a few tens of milliseconds and recorded in one call (bots/messages.py); flushed on unload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from ...api import Xp
from ...messages import MessageBuffer

if TYPE_CHECKING:
    from ..client import XpBot


class Chat(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.messages = MessageBuffer(xp)

    async def cog_unload(self) -> None:  # Bot.close() unloads every cog: nothing buffered is lost
        await self.messages.close()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or message.content.startswith(("/", "!")):
            return
        self.messages.add(str(message.author.id), str(message.channel.id), str(message.id), len(message.content),
                          message.author.display_name)


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Chat(bot.xp))
