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

import psycopg
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)

from xpsync.platforms.telegram_client import build_bot, check_token

from . import store
from .handler import CallObserver, Delivery, Permanent, Retry
from .notices import render
from .pace import Pacer
from .store import Recipient

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
        on_call: CallObserver | None = None,
    ) -> None:
        self.pacer = pacer or Pacer()
        self.call_timeout = call_timeout
        self.on_call = on_call
        self.stats: Counter[str] = Counter()
        self.bot = build_bot(token, api_base)

    async def start(self) -> None:
        """Check the token (getMe); a rejected one is a ConfigError naming TELEGRAM_TOKEN."""
        await check_token(self.bot, request_timeout=int(self.call_timeout))

    async def close(self) -> None:
        await self.bot.session.close()

    def configure(self, settings: dict[str, Any]) -> None:
        """Live settings (xp.settings): the pace of sends."""
        per_second = float(settings.get("telegram.messages_per_second", 25))
        per_chat = float(settings.get("telegram.chat_interval_seconds", 1))
        if per_second > 0 and per_chat >= 0:
            self.pacer.configure(per_second, per_chat)

    async def lookup(self, conn: psycopg.AsyncConnection[Any], people: list[int]) -> dict[int, Recipient]:
        return await store.recipients(conn, people)

    async def handle(self, delivery: Delivery, recipient: Recipient | None) -> str | None:
        if delivery.sent_ref is not None:
            return delivery.sent_ref  # sent before the ack was lost: never send twice
        if recipient is None or not recipient.notify:
            return None
        text = render(delivery.kind, delivery.payload, recipient.language)
        if text is None:
            return None
        await self.pacer.wait(recipient.chat_id)
        if self.on_call is not None:
            self.on_call(delivery)
        try:
            message = await self.bot.send_message(recipient.chat_id, text, request_timeout=int(self.call_timeout))
        except TelegramRetryAfter as exc:
            raise Retry("telegram 429", retry_after=float(exc.retry_after)) from None
        except TelegramForbiddenError as exc:
            raise Permanent(f"telegram 403: {exc.message}", mute=True) from None
        except TelegramBadRequest as exc:
            raise Permanent(f"telegram 400: {exc.message}") from None
        except TelegramAPIError as exc:  # 5xx, network errors and anything else the API says: try again
            raise Retry(f"telegram: {exc.message}") from None
        self.stats["messages"] += 1
        return str(message.message_id)
