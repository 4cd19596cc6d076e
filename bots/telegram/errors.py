"""Every XP00x refusal becomes one friendly reply; anything else is logged and apologised for.

The language middleware (context.py) answers for the handlers it wraps, in the
person's language; `on_error` is the last resort for what fails before that
(the language lookup itself, e.g. with the database down).
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, ErrorEvent, Message

from xpsync.errors import XPError
from xpsync.texts import pick_language

from ..replies import apology, refusal


def reply_for(exc: BaseException, language: str, context: str) -> str:
    return refusal(exc, language) if isinstance(exc, XPError) else apology(exc, language, context)


async def answer(event: Any, text: str) -> None:
    """Say `text` where the event came from (and close a pressed button's spinner)."""
    if isinstance(event, CallbackQuery):
        if event.message is not None:
            await event.message.answer(text)
        await event.answer()
    elif isinstance(event, Message):
        await event.answer(text)


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    source = update.message or update.callback_query
    language = pick_language(None, getattr(getattr(source, "from_user", None), "language_code", None))
    await answer(source, reply_for(event.exception, language, f"telegram update {update.update_id}"))
    return True
