"""/profile: rank, XP, coins, progress and accounts of the person writing."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from ..api import Xp
from ..replies import profile_text
from .context import sender


async def profile(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    await message.answer(profile_text(await xp.profile(who), lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="profile")
    r.message.register(profile, Command("profile"))
    return r
