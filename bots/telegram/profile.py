"""/profile: the rank card, with rank, XP, coins, progress and accounts of the person writing as its caption."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from xpsync.cards import Card, card_png

from ..api import Xp
from ..replies import profile_text
from .context import sender


async def profile(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    p = await xp.profile(who)
    # the rank card, the same image as the web's /u/{id}/card.png
    card = BufferedInputFile(card_png(Card.from_profile(p, lang)), filename="card.png")
    await message.answer_photo(card, caption=profile_text(p, lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="profile")
    r.message.register(profile, Command("profile"))
    return r
