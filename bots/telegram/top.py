"""/top [period]: the leaderboard of all time, the season, the month or the week."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from xpsync.vocabulary import PERIODS

from ..api import Xp
from ..replies import board_text


async def top(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    period = (command.args or "all").strip().lower()
    if period not in PERIODS:
        period = "all"
    await message.answer(board_text(await xp.leaderboard(period), period, lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="top")
    r.message.register(top, Command("top"))
    return r
