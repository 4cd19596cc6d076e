"""/sync, and the member events after which rank roles may have drifted.

Rank roles are the listener's job; the bot only asks for a resync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.texts import say

from ...api import Xp
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Roles(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="sync", description="Put your rank roles right")
    async def sync(self, interaction: discord.Interaction) -> None:
        await self.xp.request_resync(str(interaction.user.id))
        await interaction.response.send_message(say(language_of(interaction), "sync_done"), ephemeral=True)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if {r.id for r in before.roles} != {r.id for r in after.roles} and not after.bot:
            # a role changed by hand (or by the listener itself: then the resync finds nothing to do)
            await self.xp.request_resync(str(after.id))

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if not member.bot:
            await self.xp.request_resync(str(member.id))


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Roles(bot.xp))
