"""Telegram handler: tell a person about a rank-up or an achievement in their language.

Honours the person's opt-out, paces sends (25/s overall, 1/s per chat), and
returns the sent message id so that it is stored with the ack: a delivery that
already has one is never sent again. A chat that blocked the bot fails the
delivery for good and turns the person's notices off.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
import psycopg

from xpsync.settings import ConfigError

from .notices import render
from .outcome import Delivery, Permanent, Retry, first_call_latency
from .pace import Pacer

log = logging.getLogger(__name__)


class TelegramNotices:
    target = "telegram"

    def __init__(
        self,
        token: str,
        api_base: str,
        *,
        pacer: Pacer | None = None,
        call_timeout: float = 10.0,
    ) -> None:
        self.pacer = pacer or Pacer()
        self.call_timeout = call_timeout
        self.stats: Counter[str] = Counter()
        self.latencies: list[float] = []
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)

    async def start(self) -> None:
        """Check the token (getMe)."""
        try:
            await self.bot.get_me(request_timeout=int(self.call_timeout))
        except TelegramUnauthorizedError:
            raise ConfigError("TELEGRAM_TOKEN was rejected by Telegram: check the token") from None

    async def close(self) -> None:
        await self.bot.session.close()

    def configure(self, settings: dict[str, Any]) -> None:
        """Live settings (xp.settings): the pace of sends."""
        per_second = float(settings.get("telegram.messages_per_second", 25))
        per_chat = float(settings.get("telegram.chat_interval_seconds", 1))
        if per_second > 0 and per_chat >= 0:
            self.pacer.configure(per_second, per_chat)

    async def lookup(self, conn: psycopg.AsyncConnection, people: list[int]) -> dict[int, tuple[str, str, bool]]:
        """Each person's private chat, language and notice preference, for a whole batch in one query."""
        cur = await conn.execute(
            "SELECT u.id, r.* FROM unnest(%s::bigint[]) AS u(id), xp.telegram_recipient(u.id) AS r", (people,))
        return {user_id: (chat_id, language, notify) for user_id, chat_id, language, notify in await cur.fetchall()}

    async def handle(self, delivery: Delivery, recipient: tuple[str, str, bool] | None) -> str | None:
        if delivery.sent_ref is not None:
            return delivery.sent_ref  # sent before the ack was lost: never send twice
        if recipient is None:
            return None
        chat_id, language, notify = recipient
        text = render(delivery.kind, delivery.payload, language)
        if text is None or not notify:
            return None
        await self.pacer.wait(chat_id)
        first_call_latency(delivery, self.latencies)
        try:
            message = await self.bot.send_message(chat_id, text, request_timeout=int(self.call_timeout))
        except TelegramRetryAfter as exc:
            raise Retry("telegram 429", retry_after=float(exc.retry_after)) from None
        except TelegramForbiddenError as exc:
            raise Permanent(f"telegram 403: {exc.message}", mute=True) from None
        except TelegramBadRequest as exc:
            raise Permanent(f"telegram 400: {exc.message}") from None
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise Retry(f"telegram: {exc.message}") from None
        except TelegramAPIError as exc:
            raise Retry(f"telegram: {exc.message}") from None
        self.stats["messages"] += 1
        return str(message.message_id)
