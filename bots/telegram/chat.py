"""Group messages count for XP (the database applies the cooldown and the minimum length).

Only a member's own words count: not bots, not channel posts forwarded into a
discussion group, not messages sent on behalf of a chat (context.own_words).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from ..api import Xp
from .context import own_words, sender

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
    r.message.register(group_message, F.chat.type.in_(GROUPS), own_words)
    return r
