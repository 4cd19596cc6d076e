"""What every Telegram handler is given: the reply language of the person writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from xpsync.texts import pick_language

from ..api import Xp
from .errors import answer, reply_for


class LanguageMiddleware(BaseMiddleware):
    """data["lang"]: the language the person chose (/lang), else their app's, else English.

    Only for what the bot answers: a group message that is not a command is only
    counted, so it costs no lookup.
    """

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        xp: Xp = data["xp"]
        answered = not isinstance(event, Message) or event.chat.type == "private" or (event.text or "").startswith("/")
        chosen = await xp.language(str(user.id)) if user is not None and answered else None
        data["lang"] = language = pick_language(chosen, getattr(user, "language_code", None))
        try:
            return await handler(event, data)
        except Exception as exc:  # noqa: BLE001 - one line for the member, the details in the log
            update = getattr(data.get("event_update"), "update_id", "?")
            text = reply_for(exc, language, f"telegram update {update} from {getattr(user, 'id', '?')}")
            if answered:  # a group message that failed to count is logged, not apologised for in the group
                await answer(event, text)
            return None


def sender(event: Any) -> tuple[str, str]:
    """The external id and display name of whoever sent a message or pressed a button."""
    user = event.from_user
    return str(user.id), user.full_name
