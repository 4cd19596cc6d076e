"""What every Telegram handler is given: the reply language of the person writing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from xpsync.errors import XPError
from xpsync.texts import pick_language

from ..api import Xp
from .client_languages import ClientLanguages
from .errors import answer, reply_for

log = logging.getLogger(__name__)


class LanguageMiddleware(BaseMiddleware):
    """data["lang"]: the language the person chose (/lang), else their app's, else English.

    The app's language (`language_code`) is recorded on the account when this
    process has not recorded it yet (ClientLanguages), so that the listener's
    notices speak it too; that call also answers the language. Otherwise only
    what the bot answers looks the language up: a group message that is not a
    command is only counted, so it costs no statement.
    """

    def __init__(self, client_languages: ClientLanguages | None = None) -> None:
        self.client_languages = client_languages or ClientLanguages()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        answered = not isinstance(event, Message) or event.chat.type == "private" or (event.text or "").startswith("/")
        hint = getattr(user, "language_code", None)
        language = pick_language(None, hint)
        try:
            if user is not None and (own_words(event) if isinstance(event, Message) else not user.is_bot):
                language = await self._language(data["xp"], str(user.id), hint, answered) or language
            data["lang"] = language
            return await handler(event, data)
        except Exception as exc:  # noqa: BLE001 - one line for the member, the details in the log
            update = getattr(data.get("event_update"), "update_id", "?")
            text = reply_for(exc, language, f"telegram update {update} from {getattr(user, 'id', '?')}")
            if answered:  # a group message that failed to count is logged, not apologised for in the group
                await answer(event, text)
            return None

    async def _language(self, xp: Xp, who: str, hint: str | None, answered: bool) -> str | None:
        """The language to speak (None: not looked up, or an account never seen); records a new app hint."""
        if hint and self.client_languages.is_new(who, hint):
            spoken = await self._record(xp, who, hint)
            if spoken is not None:
                return spoken
        return pick_language(await xp.language(who), hint) if answered else None

    async def _record(self, xp: Xp, who: str, hint: str) -> str | None:
        try:
            spoken: str | None = await xp.set_client_language(who, hint)
        except XPError as exc:  # a tag the database refuses: spoken from the hint as before, never retried
            log.info("telegram user %s: app language %r not recorded: %s", who, hint, exc.message)
            spoken = None
        self.client_languages.recorded(who, hint)
        return spoken


# Telegram's service account: the sender shown for channel posts forwarded into a linked discussion group
SERVICE_USER = 777000


def own_words(message: Message) -> bool:
    """A member speaking for themselves: not a bot, not Telegram's service account, not a message sent
    on behalf of a chat (an anonymous admin, a channel) nor a channel post forwarded automatically."""
    user = message.from_user
    return (user is not None and not user.is_bot and user.id != SERVICE_USER and message.sender_chat is None
            and not message.is_automatic_forward)


def sender(event: Any) -> tuple[str, str]:
    """The external id and display name of whoever sent a message or pressed a button."""
    user = event.from_user
    return str(user.id), user.full_name
