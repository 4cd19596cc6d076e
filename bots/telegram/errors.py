"""Every XP00x refusal becomes one friendly reply; anything else is logged and apologised for."""

from __future__ import annotations

from aiogram.types import ErrorEvent

from xpsync.errors import XPError

from ..replies import apology, refusal
from ..texts import pick_language

async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    message = update.message or (update.callback_query.message if update.callback_query else None)
    user = (update.message or update.callback_query).from_user if (update.message or update.callback_query) else None
    language = pick_language(None, getattr(user, "language_code", None))
    if isinstance(event.exception, XPError):
        text = refusal(event.exception, language)
    else:
        text = apology(event.exception, language, f"telegram update {update.update_id}")
    if message is not None:
        await message.answer(text)
    if update.callback_query is not None:
        await update.callback_query.answer()
    return True
