"""`xpsync listen discord|telegram`: one process, one pool, one handler, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from xpsync.db import create_pool, database_url
from xpsync.settings import Settings

from .handler import Handler
from .runtime import Listener, Options

log = logging.getLogger(__name__)


def build_handler(target: str, settings: Settings) -> Handler[Any]:
    """Only the target's client library is imported (aiogram alone takes seconds to import)."""
    if target == "discord":
        from .discord_roles import DiscordRoles

        return DiscordRoles(settings.require_discord_token(), settings.discord_api_base)
    from .telegram_notices import TelegramNotices

    return TelegramNotices(settings.require_telegram_token(), settings.telegram_api_base)


async def serve(target: str, settings: Settings, options: Options) -> int:
    """Run the listener until SIGTERM/SIGINT (0) or until a task dies (1)."""
    settings.require_token(target)  # fail before touching the database when the token is missing
    url = database_url(settings)
    # two batches in flight, each holding one connection at a time (LISTEN has its own)
    pool = create_pool(url, max_size=3, name=f"xpsync-listen-{target}")
    await pool.open(wait=True, timeout=30)
    handler = build_handler(target, settings)
    try:
        await handler.start()  # a rejected token is a ConfigError naming the variable
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        listener = Listener(pool, url, handler, options=options)
        try:
            await listener.run(stop)
        except Exception as exc:  # a dead task: say why, exit non-zero, let systemd restart us
            causes = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            for cause in causes:
                log.error("listener task died: %s: %s", type(cause).__name__, cause, exc_info=cause)
            return 1
        log.info("stopped: %s", dict(listener.stats))
        return 0
    finally:
        await handler.close()
        await pool.close()
