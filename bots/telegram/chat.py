"""Group messages count for XP (the database applies the cooldown and the minimum length)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from ..api import Xp
from .context import sender

GROUPS = {"group", "supergroup"}


async def group_message(message: Message, xp: Xp) -> None:
    text = message.text or message.caption or ""
    if text.startswith("/"):
        return  # a command (for this bot or another) is not conversation
    who, name = sender(message)
    await xp.record_message(who, str(message.chat.id), str(message.message_id), len(text), name)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="chat")
    r.message.register(group_message, F.chat.type.in_(GROUPS), F.from_user.is_bot.is_(False))
    return r
