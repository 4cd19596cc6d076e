"""/notify on|off, /lang en|ru and /privacy on|off."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from xpsync.texts import say
from xpsync.vocabulary import LANGUAGES

from ..api import Xp
from .context import sender


async def notify(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    choice = (command.args or "").strip().lower()
    if choice not in ("on", "off"):
        await message.answer(say(lang, "notify_usage"))
        return
    who, _ = sender(message)
    enabled = await xp.set_notify(who, choice == "on")
    await message.answer(say(lang, "notify_on" if enabled else "notify_off"))


async def language(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    choice = (command.args or "").strip().lower()
    if choice not in LANGUAGES:
        await message.answer(say(lang, "lang_usage"))
        return
    who, _ = sender(message)
    chosen = await xp.set_language(who, choice)
    await message.answer(say(chosen, "lang_done"))


async def privacy(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    choice = (command.args or "").strip().lower()
    if choice not in ("on", "off"):
        await message.answer(say(lang, "privacy_usage"))
        return
    who, _ = sender(message)
    hidden = await xp.set_privacy(who, choice == "on")
    await message.answer(say(lang, "privacy_on" if hidden else "privacy_off"))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="prefs")
    r.message.register(notify, Command("notify"))
    r.message.register(privacy, Command("privacy"))
    r.message.register(language, Command("lang"))
    return r
