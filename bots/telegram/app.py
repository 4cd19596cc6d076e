"""`xpsync bot telegram`: the dispatcher with its routers, one pool, long polling until SIGTERM."""

from __future__ import annotations

import logging

from aiogram import Dispatcher
from psycopg_pool import AsyncConnectionPool

from xpsync.config_watch import presence
from xpsync.db import create_pool, database_url
from xpsync.platforms.telegram_client import build_bot, check_token
from xpsync.settings import Settings

from ..api import Xp
from ..messages import MessageBuffer
from . import chat, daily, errors, games, linking, prefs, profile, quests, shop, start, top
from .context import LanguageMiddleware

log = logging.getLogger(__name__)


def build_dispatcher(pool: AsyncConnectionPool) -> Dispatcher:
    dp = Dispatcher()
    dp["xp"] = Xp(pool, "telegram")
    messages = dp["messages"] = MessageBuffer(dp["xp"])
    dp.shutdown.register(messages.close)  # start_polling's shutdown: what is buffered is recorded
    language = LanguageMiddleware()  # one, so that both observers share what it has recorded
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(language)
    dp.errors.register(errors.on_error)  # the root's error handler sees every router's errors
    dp.include_routers(start.router(), profile.router(), top.router(), daily.router(), linking.router(),
                       prefs.router(), games.router(), quests.router(), shop.router(), chat.router())
    return dp


async def run(settings: Settings) -> int:
    token = settings.require_telegram_token()
    url = database_url(settings)
    pool = create_pool(url, max_size=8, name="xpsync-bot-telegram")
    await pool.open(wait=True, timeout=30)
    bot = build_bot(token, settings.telegram_api_base)
    try:
        me = await check_token(bot)
        log.info("telegram bot @%s started", me.username)
        dp = build_dispatcher(pool)
        async with presence(pool, url, "bot:telegram", dp["xp"]):  # heartbeats, changes taken up
            await dp.start_polling(bot, handle_signals=True)
        return 0
    finally:
        await bot.session.close()
        await pool.close()
