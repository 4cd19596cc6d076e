"""/games: guess the number, quiz and the daily wheel, on inline keyboards.

The database keeps every game and scores every answer; a button carries only the
session id and the answer, so a game goes on after a bot restart.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from xpsync.texts import say

from ..api import Xp
from ..replies import game_text
from .context import sender


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row]
                                                 for row in rows])


def menu(lang: str) -> InlineKeyboardMarkup:
    return keyboard([[(say(lang, "game_guess"), "game:guess"), (say(lang, "game_quiz"), "game:quiz"),
                      (say(lang, "game_spin"), "game:spin")]])


def decades(session: int) -> InlineKeyboardMarkup:
    """Guessing takes two taps: the ten numbers it is among, then the number."""
    spans = [(f"{d + 1}–{d + 10}", f"gd:{session}:{d}") for d in range(0, 100, 10)]
    return keyboard([spans[:5], spans[5:]])


def numbers(session: int, decade: int) -> InlineKeyboardMarkup:
    cells = [(str(n), f"gn:{session}:{n}") for n in range(decade + 1, decade + 11)]
    return keyboard([cells[:5], cells[5:]])


def answers(g: dict[str, Any]) -> InlineKeyboardMarkup | None:
    if g["status"] != "active":
        return None
    if g["game"] == "guess":
        return decades(g["session_id"])
    if g["game"] == "quiz":
        return keyboard([[(text, f"qa:{g['session_id']}:{i}")] for i, text in enumerate(g["options"])])
    return None


async def games(message: Message, lang: str) -> None:
    await message.answer(say(lang, "games"), reply_markup=menu(lang))


def pressed(callback: CallbackQuery) -> tuple[Message | None, list[str]]:
    """The message a button belongs to (None once Telegram no longer shows it to us) and the button's data."""
    message = callback.message if isinstance(callback.message, Message) else None
    return message, (callback.data or "").split(":")


async def start_game(callback: CallbackQuery, xp: Xp, lang: str) -> None:
    who, _ = sender(callback)
    message, (_, game) = pressed(callback)
    g = await xp.start_game(who, game)
    if message is not None:
        await message.answer(game_text(g, lang), reply_markup=answers(g))
    await callback.answer()


async def pick_decade(callback: CallbackQuery) -> None:
    message, (_, session, decade) = pressed(callback)
    if message is not None:
        await message.edit_reply_markup(reply_markup=numbers(int(session), int(decade)))
    await callback.answer()


async def answer(callback: CallbackQuery, xp: Xp, lang: str) -> None:
    who, _ = sender(callback)
    message, (_, session, move) = pressed(callback)
    g = await xp.play_game(who, int(session), move)
    if message is not None:
        await message.answer(game_text(g, lang), reply_markup=answers(g) if g["applied"] else None)
    await callback.answer()


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="games")
    r.message.register(games, Command("games"))
    r.callback_query.register(start_game, F.data.startswith("game:"))
    r.callback_query.register(pick_decade, F.data.startswith("gd:"))
    r.callback_query.register(answer, F.data.startswith(("gn:", "qa:")))
    return r
