"""Telegram (aiogram): a Bot whose requests go to TELEGRAM_API_BASE, and a checked token."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.types import User

from ..settings import ConfigError

REJECTED = "TELEGRAM_TOKEN was rejected by Telegram: check it with @BotFather"


def build_bot(token: str, api_base: str) -> Bot:
    """A Bot whose requests go to `{api_base}/bot{token}/{method}`; close its session when done."""
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


async def check_token(bot: Bot, *, request_timeout: int | None = None) -> User:
    """The bot itself (getMe); a token Telegram refuses (401) is one line naming TELEGRAM_TOKEN."""
    try:
        return await bot.get_me(request_timeout=request_timeout)
    except TelegramUnauthorizedError:
        raise ConfigError(REJECTED) from None
