"""/quests: the quests running now with the member's progress; /submit quest proof: a submission
for an operator's review (the member hears of it as the quest list shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.texts import title_in

from ...api import Xp
from ...replies import quests_text, submittable, submitted_text
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Quests(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="quests", description="The quests running now and how far you have come")
    async def quests(self, interaction: discord.Interaction) -> None:
        found = await in_time(interaction, self.xp.quest_list(str(interaction.user.id)), ephemeral=True)
        await reply(interaction, quests_text(found, language_of(interaction)), ephemeral=True)

    @app_commands.command(name="submit", description="Send a quest for review, with what proves it")
    @app_commands.describe(quest="the quest's code, as /quests lists it", proof="a link or a few words")
    async def submit(self, interaction: discord.Interaction, quest: str, proof: str) -> None:
        who = str(interaction.user.id)

        async def send() -> dict[str, Any] | None:
            await self.xp.submit_quest(who, quest.strip(), proof.strip())
            return next((q for q in await self.xp.quest_list(who) if q["code"] == quest.strip()), None)

        done = await in_time(interaction, send(), ephemeral=True)
        await reply(interaction, submitted_text(done, language_of(interaction)), ephemeral=True)


    @submit.autocomplete("quest")
    async def quest_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The quests the member may submit now, by their titles (the value is the code)."""
        lang = language_of(interaction)
        found = submittable(await self.xp.quest_list(str(interaction.user.id)))
        return [app_commands.Choice(name=title_in(q["title"], lang)[:100], value=q["code"]) for q in found
                if current.lower() in (q["code"] + title_in(q["title"], lang)).lower()][:25]


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Quests(bot.xp))
