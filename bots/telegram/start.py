"""/start: the welcome (and, with it, a private chat the bot may write to)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from xpsync.texts import say

from .context import sender


async def start(message: Message, lang: str) -> None:
    _, name = sender(message)
    await message.answer(say(lang, "welcome", name=name))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="start")
    r.message.register(start, CommandStart())
    return r
