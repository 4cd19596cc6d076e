"""`xpsync bot telegram`: the dispatcher with its routers, one pool, long polling until SIGTERM."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError
from psycopg_pool import AsyncConnectionPool

from xpsync.db import create_pool, database_url
from xpsync.settings import ConfigError, Settings

from ..api import Xp
from . import account, chat, errors, games, linking, prefs
from .context import LanguageMiddleware

log = logging.getLogger(__name__)


def build_dispatcher(pool: AsyncConnectionPool) -> Dispatcher:
    dp = Dispatcher()
    dp["xp"] = Xp(pool, "telegram")
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(LanguageMiddleware())
    dp.errors.register(errors.on_error)  # the root's error handler sees every router's errors
    dp.include_routers(account.router(), linking.router(), prefs.router(), games.router(), chat.router())
    return dp


def build_bot(token: str, api_base: str) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


async def run(settings: Settings) -> int:
    token = settings.require_telegram_token()
    pool = create_pool(database_url(settings), max_size=8, name="xpsync-bot-telegram")
    await pool.open(wait=True, timeout=30)
    bot = build_bot(token, settings.telegram_api_base)
    try:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise ConfigError("TELEGRAM_TOKEN was rejected by Telegram (check it with @BotFather)") from exc
        log.info("telegram bot @%s started", me.username)
        await build_dispatcher(pool).start_polling(bot, handle_signals=True)
        return 0
    finally:
        await bot.session.close()
        await pool.close()
