"""/daily: the day's reward, claimed once per UTC day per person."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from ..api import Xp
from ..replies import daily_text
from .context import sender


async def daily(message: Message, xp: Xp, lang: str) -> None:
    who, name = sender(message)
    await message.answer(daily_text(await xp.claim_daily(who, name), lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="daily")
    r.message.register(daily, Command("daily"))
    return r
