"""/profile [member] and /top [period]: a member's rank card and the leaderboards."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.cards import Card, card_png
from xpsync.texts import say
from xpsync.vocabulary import Period

from ...api import Xp
from ...replies import board_text
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


CARD_NAME = "card.png"


def progress_bar(xp: int, floor: int, ceiling: int, width: int = 10) -> str:
    """`width` cells, filled for the share of the way from this rank's floor to the next rank's."""
    filled = width * (xp - floor) // (ceiling - floor)
    return "█" * filled + "░" * (width - filled)


def profile_embed(p: dict[str, Any], lang: str) -> discord.Embed:
    """A profile (as xp.profile returns it) as an embed, labelled in the member's language."""
    rank = p["rank"]
    embed = discord.Embed(title=f"{rank['emoji']} {p.get('display_name') or '—'}",
                          colour=discord.Colour(int(rank["color"].lstrip("#"), 16)))
    embed.add_field(name=say(lang, "label_rank"), value=rank["name"])
    embed.add_field(name=say(lang, "label_xp"), value=str(p["xp"]))
    embed.add_field(name=say(lang, "label_coins"), value=str(p["coins"]))
    nxt = p.get("next_rank")
    if nxt:
        bar = progress_bar(p["xp"], rank["min_xp"], nxt["min_xp"])
        progress = f"{bar} {say(lang, 'progress', remaining=nxt['xp_remaining'], next=nxt['name'])}"
    else:
        progress = say(lang, "top_rank")
    embed.add_field(name=say(lang, "label_progress"), value=progress, inline=False)
    embed.add_field(name=say(lang, "label_place"), value=f"#{p['place']}" if p.get("place") else "—")
    embed.add_field(name=say(lang, "label_streak"), value=str(p["streak"]))
    embed.add_field(name=say(lang, "label_achievements"),
                    value=" ".join(a["emoji"] for a in p["achievements"]) or "—")
    embed.add_field(name=say(lang, "label_accounts"), value=", ".join(a["platform"] for a in p["accounts"]),
                    inline=False)
    return embed


class Profile(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="profile", description="Rank, XP, coins and progress (yours or a member's)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        lang = language_of(interaction)
        who = member or interaction.user
        p = await in_time(interaction, self.xp.profile(str(who.id)))
        if p["hidden"] and who.id != interaction.user.id:
            await reply(interaction, say(lang, "privacy_other"), ephemeral=True)
            return
        # the rank card, the same image as the web's /u/{id}/card.png, inside the embed
        embed = profile_embed(p, lang).set_image(url=f"attachment://{CARD_NAME}")
        card = discord.File(io.BytesIO(card_png(Card.from_profile(p, lang))), filename=CARD_NAME)
        await reply(interaction, embed=embed, file=card)

    @app_commands.command(name="top", description="The leaderboard")
    async def top(self, interaction: discord.Interaction, period: Period = "all") -> None:
        rows = await in_time(interaction, self.xp.leaderboard(period))
        await reply(interaction, board_text(rows, period, language_of(interaction)))


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Profile(bot.xp))
