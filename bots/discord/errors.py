"""Slash-command failures: an XP00x refusal is one friendly ephemeral line; anything else is logged
and apologised for."""

from __future__ import annotations

import discord
from discord import app_commands

from xpsync.errors import XPError
from xpsync.texts import pick_language

from ..replies import apology, refusal
from .answers import reply


def language_of(interaction: discord.Interaction) -> str:
    return pick_language(None, str(interaction.locale.value))


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    language = language_of(interaction)
    if isinstance(cause, XPError):
        text = refusal(cause, language)
    else:
        name = interaction.command.name if interaction.command else "?"
        text = apology(cause, language, f"discord /{name} by {interaction.user.id}")
    await reply(interaction, text, ephemeral=True)
