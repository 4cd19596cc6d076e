"""/link [code] and /unlink."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from xpsync.texts import say

from ..api import Xp
from ..replies import link_text
from .context import sender


async def link(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    if command.args:
        await message.answer(link_text(await xp.redeem_link_code(who, command.args.strip()), lang))
    else:
        code = await xp.create_link_code(who)
        await message.answer(say(lang, "link_code", code=code))


async def unlink(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    await xp.unlink(who)
    await message.answer(say(lang, "unlink_done"))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="linking")
    r.message.register(link, Command("link"))
    r.message.register(unlink, Command("unlink"))
    return r
