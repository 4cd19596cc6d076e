"""/quests: the quests running now with the member's progress, and a button per quest they may
submit; /submit CODE PROOF sends a submission for an operator's review (the answer comes back here
as a notice, from the Telegram listener)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from xpsync.texts import say, title_in

from ..api import Xp
from ..replies import quests_text, submittable, submitted_text
from .context import sender
from .games import keyboard, pressed


async def quests(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    found = await xp.quest_list(who)
    buttons = [[(say(lang, "quest_submit", title=title_in(q["title"], lang)), f"qs:{q['code']}")]
               for q in submittable(found)]
    await message.answer(quests_text(found, lang), reply_markup=keyboard(buttons) if buttons else None)


async def how_to_submit(callback: CallbackQuery, lang: str) -> None:
    """A quest's button: how to send the proof (the proof is the member's own words, in a message)."""
    message, (_, code) = pressed(callback)
    if message is not None:
        await message.answer(f"{say(lang, 'quest_proof_prompt')}\n/submit {code} …")
    await callback.answer()


async def submit(message: Message, command: CommandObject, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    code, _, proof = (command.args or "").strip().partition(" ")
    if not code or not proof.strip():
        await message.answer(f"{say(lang, 'quest_proof_prompt')}\n/submit CODE …")
        return
    await xp.submit_quest(who, code, proof.strip())
    quest = next((q for q in await xp.quest_list(who) if q["code"] == code), None)
    await message.answer(submitted_text(quest, lang))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="quests")
    r.message.register(quests, Command("quests"))
    r.message.register(submit, Command("submit"))
    r.callback_query.register(how_to_submit, F.data.startswith("qs:"))
    return r
