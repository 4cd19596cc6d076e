"""What every Telegram handler is given: the reply language of the person writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from ..api import Xp
from ..texts import pick_language


class LanguageMiddleware(BaseMiddleware):
    """data["lang"]: the language the person chose (/lang), else their app's, else English."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        xp: Xp = data["xp"]
        chosen = await xp.language(str(user.id)) if user is not None else None
        data["lang"] = pick_language(chosen, getattr(user, "language_code", None))
        return await handler(event, data)


def sender(event: Any) -> tuple[str, str]:
    """The external id and display name of whoever sent a message or pressed a button."""
    user = event.from_user
    return str(user.id), user.full_name
