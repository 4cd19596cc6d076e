"""/link [code] and /unlink: one progression across Discord and Telegram."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.texts import say

from ...api import Xp
from ...replies import link_text
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Linking(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="link", description="Link your Telegram account (no code: get one)")
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        lang = language_of(interaction)
        who = str(interaction.user.id)
        if code:
            text = link_text(await in_time(interaction, self.xp.redeem_link_code(who, code.strip()), ephemeral=True),
                             lang)
        else:
            text = say(lang, "link_code", code=await in_time(interaction, self.xp.create_link_code(who),
                                                             ephemeral=True))
        await reply(interaction, text, ephemeral=True)

    @app_commands.command(name="unlink", description="Take this Discord account off your linked progression")
    async def unlink(self, interaction: discord.Interaction) -> None:
        await in_time(interaction, self.xp.unlink(str(interaction.user.id)), ephemeral=True)
        await reply(interaction, say(language_of(interaction), "unlink_done"), ephemeral=True)


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Linking(bot.xp))
