"""Telegram handler: tell a person about a rank-up or an achievement in their language.

A bot may write only to someone who opened a private chat with it (/start,
xp.chat_opened). Everyone else is told in the group where they were last
active, when that group has announcements on (xp.chat_settings), or not at
all: the delivery is done with the note "not told: …", and nobody is muted
for it. Only "blocked by the user" and "user is deactivated" turn a person's
notices off (and /start turns them on again).

Sends take slots of a pace shared by every instance (25 a second in all, one
a second per chat, 20 a minute per group), inside the delivery's lease; a 429
pauses that pace for its retry_after (at most a day). The sent message's id is
stored with the ack, so that a delivery that has one is never sent again. A
rejected token stops the listener (ConfigError naming TELEGRAM_TOKEN); an
answer that is not JSON (an HTML page from a proxy) is a transient failure.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import psycopg
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from psycopg_pool import AsyncConnectionPool

from xpsync.platforms.telegram_client import REJECTED, build_bot, check_token
from xpsync.settings import ConfigError

from . import store
from .handler import SHORTEST_CALL, CallObserver, Delivery, Permanent, Retry, Unsent
from .notices import render
from .pace import Limit, Pace, bounded, gap, number
from .store import Recipient

log = logging.getLogger(__name__)
NOT_TOLD = "not told: never opened a chat with the bot and no announcing group"
CANT_INITIATE = "can't initiate conversation"
MUTING = ("blocked by the user", "user is deactivated")  # the person's own doing: their notices go off
GLOBAL = "telegram"


class CantInitiate(Exception):
    """Telegram will not let the bot start a conversation with this person."""


class TelegramNotices:
    target = "telegram"

    def __init__(self, token: str, api_base: str, pool: AsyncConnectionPool, *, call_timeout: float = 10.0,
                 on_call: CallObserver | None = None) -> None:
        self.pace = Pace(pool)
        self.call_timeout = call_timeout
        self.on_call = on_call
        self.stats: Counter[str] = Counter()
        self.bot = build_bot(token, api_base)
        self.gaps = {"any": gap(25, 25), "private": 1.0, "group": 3.0}

    async def start(self) -> None:
        """Check the token (getMe); a rejected one is a ConfigError naming TELEGRAM_TOKEN."""
        await check_token(self.bot, request_timeout=int(self.call_timeout))

    async def close(self) -> None:
        await self.bot.session.close()

    def configure(self, settings: dict[str, Any]) -> None:
        """Live settings (xp.settings): the shared pace of sends."""
        self.gaps = {"any": gap(settings.get("telegram.messages_per_second", 25), 25),
                     "private": max(0.0, number(settings.get("telegram.chat_interval_seconds", 1), 1.0)),
                     "group": gap(number(settings.get("telegram.group_messages_per_minute", 20), 20) / 60, 20 / 60)}

    async def lookup(self, conn: psycopg.AsyncConnection[Any], people: list[int]) -> dict[int, Recipient]:
        return await store.recipients(conn, people)

    async def handle(self, delivery: Delivery, recipient: Recipient | None) -> str | Unsent | None:
        if delivery.sent_ref is not None:
            return delivery.sent_ref  # sent before the ack was lost: never send twice
        if recipient is None:
            return Unsent("not told: no Telegram account any more")
        if render(delivery.kind, delivery.payload, recipient.language) is None:
            return None  # nothing worth a message (a demotion)
        if not recipient.notify:
            return Unsent("not told: notices are off")
        if recipient.opened:
            text = render(delivery.kind, delivery.payload, recipient.language)
            assert text is not None
            try:
                return await self._send(delivery, recipient.chat_id, text, group=False)
            except CantInitiate:
                pass  # the database thought the chat was open; the group may still do
        if recipient.group_chat is not None:
            text = render(delivery.kind, delivery.payload, recipient.language,
                          person=recipient.name or recipient.chat_id)
            assert text is not None
            return await self._send(delivery, recipient.group_chat, text, group=True)
        return Unsent(NOT_TOLD)

    async def _send(self, delivery: Delivery, chat_id: str, text: str, *, group: bool) -> str:
        # a group's 20 a minute hold over any minute: one every 3 s, no burst (a burst on top of the
        # rate would put more than 20 into the minute it starts)
        per_chat = Limit(f"telegram:{chat_id}", self.gaps["group" if group else "private"])
        await self.pace.slot([Limit(GLOBAL, self.gaps["any"]), per_chat], within=delivery.time_left() - SHORTEST_CALL)
        if self.on_call is not None:
            self.on_call(delivery)
        timeout = max(1, int(min(self.call_timeout, delivery.time_left())))  # aiogram counts whole seconds
        try:
            message = await self.bot.send_message(chat_id, text, request_timeout=timeout)
        except TelegramRetryAfter as exc:
            seconds = bounded(exc.retry_after)
            await self.pace.pause([GLOBAL], seconds)  # every send of every instance waits it out
            raise Retry(f"telegram 429: retry after {seconds:g}s", retry_after=seconds) from None
        except TelegramUnauthorizedError:
            raise ConfigError(REJECTED) from None
        except TelegramForbiddenError as exc:
            if CANT_INITIATE in exc.message:
                raise CantInitiate from None
            raise Permanent(f"telegram 403: {exc.message}", mute=any(m in exc.message for m in MUTING)) from None
        except TelegramBadRequest as exc:
            raise Permanent(f"telegram 400: {exc.message}") from None
        except TelegramAPIError as exc:  # 5xx, network errors and anything else the API says: try again
            raise Retry(f"telegram: {exc.message}") from None
        except ClientDecodeError:  # an HTML page (a proxy's 502) where the Bot API answers JSON
            raise Retry("telegram: the answer was not JSON (an error page from a proxy?)") from None
        self.stats["messages"] += 1
        return str(message.message_id)
