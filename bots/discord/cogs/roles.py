"""/sync, and the member events after which rank roles may have drifted.

Rank roles are the listener's job; the bot only asks for a resync, and for a
role change only when the database finds it moved a managed role away from
the person's plan (the listener's own changes come back as member updates too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.texts import say

from ...api import Xp
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Roles(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="sync", description="Put your rank roles right")
    async def sync(self, interaction: discord.Interaction) -> None:
        await in_time(interaction, self.xp.request_resync(str(interaction.user.id)), ephemeral=True)
        await reply(interaction, say(language_of(interaction), "sync_done"), ephemeral=True)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """Discord sends this for every role change, the listener's own too: the database queues a resync
        only when a managed role moved away from what the member should hold (drift)."""
        was, now = {str(r.id) for r in before.roles}, {str(r.id) for r in after.roles}
        if was != now and not after.bot:
            await self.xp.discord_roles_changed(str(after.guild.id), str(after.id), sorted(now - was),
                                                sorted(was - now))

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if not member.bot:
            await self.xp.request_resync(str(member.id))


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Roles(bot.xp))
