"""/start, /profile, /top and /daily."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from ..api import Xp
from ..replies import board_text, daily_text, profile_text
from ..texts import PERIODS, say
from .context import sender


async def start(message: Message, lang: str) -> None:
    await message.answer(say(lang, "welcome", name=message.from_user.full_name))


async def profile(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    await message.answer(profile_text(await xp.profile(who), lang))


async def top(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    period = (command.args or "all").strip().lower()
    if period not in PERIODS:
        period = "all"
    await message.answer(board_text(await xp.leaderboard(period), period, lang))


async def daily(message: Message, xp: Xp, lang: str) -> None:
    who, name = sender(message)
    await message.answer(daily_text(await xp.claim_daily(who, name), lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="account")
    r.message.register(start, CommandStart())
    r.message.register(profile, Command("profile"))
    r.message.register(top, Command("top"))
    r.message.register(daily, Command("daily"))
    return r
