"""/privacy on|off: hide from (or show again on) every public board, profile and card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.texts import say

from ...api import Xp
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Privacy(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="privacy", description="Hide yourself from the public boards (on) or show yourself")
    async def privacy(self, interaction: discord.Interaction, state: Literal["on", "off"]) -> None:
        hidden = await in_time(interaction, self.xp.set_privacy(str(interaction.user.id), state == "on"),
                               ephemeral=True)
        text = say(language_of(interaction), "privacy_on" if hidden else "privacy_off")
        await reply(interaction, text, ephemeral=True)


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Privacy(bot.xp))
