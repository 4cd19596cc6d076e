"""/start: the welcome, and with it a private chat the bot may write to (xp.chat_opened): from now on
the listener sends this person's notices here, and notices muted because they had blocked the bot are on
again."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from xpsync.texts import say

from ..api import Xp
from .context import sender


async def start(message: Message, xp: Xp, lang: str) -> None:
    who, name = sender(message)
    if message.chat.type == "private":  # /start in a group opens no chat with the person
        await xp.chat_opened(who)
    await message.answer(say(lang, "welcome", name=name))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="start")
    r.message.register(start, CommandStart())
    return r
