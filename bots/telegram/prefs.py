"""/notify on|off, /lang en|ru and /privacy on|off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from xpsync.texts import say
from xpsync.vocabulary import LANGUAGES

from ..api import Xp
from .context import sender


async def _switch(message: Message, command: CommandObject, lang: str,
                  set_to: Callable[[str, bool], Awaitable[bool]], texts: str) -> None:
    """`/<command> on|off`: the setting as the database now holds it, or how to use the command.
    The texts are `<texts>_on`, `<texts>_off` and `<texts>_usage`."""
    choice = (command.args or "").strip().lower()
    if choice not in ("on", "off"):
        await message.answer(say(lang, f"{texts}_usage"))
        return
    who, _ = sender(message)
    now_on = await set_to(who, choice == "on")
    await message.answer(say(lang, f"{texts}_on" if now_on else f"{texts}_off"))


async def notify(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    await _switch(message, command, lang, xp.set_notify, "notify")


async def language(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    choice = (command.args or "").strip().lower()
    if choice not in LANGUAGES:
        await message.answer(say(lang, "lang_usage"))
        return
    who, _ = sender(message)
    chosen = await xp.set_language(who, choice)
    await message.answer(say(chosen, "lang_done"))


async def privacy(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    await _switch(message, command, lang, xp.set_privacy, "privacy")


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="prefs")
    r.message.register(notify, Command("notify"))
    r.message.register(privacy, Command("privacy"))
    r.message.register(language, Command("lang"))
    return r
