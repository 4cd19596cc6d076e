"""`xpsync listen discord|telegram`: one process, one pool, one handler, until SIGTERM (exit 0), a dead
task (exit 1) or a token the platform rejects while running (a ConfigError: one line, exit 2)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from xpsync.db import create_pool, database_url
from xpsync.settings import ConfigError, Settings

from .handler import Handler
from .runtime import Listener, Options, first_cause

log = logging.getLogger(__name__)


def build_handler(target: str, settings: Settings, pool: AsyncConnectionPool) -> Handler[Any]:
    """Only the target's client library is imported (aiogram alone takes seconds to import)."""
    if target == "discord":
        from .discord_roles import DiscordRoles

        return DiscordRoles(settings.require_discord_token(), settings.discord_api_base, pool)
    from .telegram_notices import TelegramNotices

    return TelegramNotices(settings.require_telegram_token(), settings.telegram_api_base, pool)


async def serve(target: str, settings: Settings, options: Options) -> int:
    """Run the listener until SIGTERM/SIGINT (0) or until a task dies (1)."""
    settings.require_token(target)  # fail before touching the database when the token is missing
    url = database_url(settings)
    # claims and acks of two batches in flight, and the pace's slot reservations (LISTEN has its own)
    pool = create_pool(url, max_size=2 + min(options.concurrency, 8), name=f"xpsync-listen-{target}")
    await pool.open(wait=True, timeout=30)
    handler = build_handler(target, settings, pool)
    try:
        await handler.start()  # a rejected token is a ConfigError naming the variable
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        listener = Listener(pool, url, handler, options=options)
        try:
            await listener.run(stop)
        except Exception as exc:
            cause = first_cause(exc) if isinstance(exc, BaseExceptionGroup) else exc
            if isinstance(cause, ConfigError):
                raise cause from None  # the token was rejected: one line naming it, exit 2 (no restart)
            # a dead task: say why, exit non-zero, let systemd restart us
            causes = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            for dead in causes:
                log.error("listener task died: %s: %s", type(dead).__name__, dead, exc_info=dead)
            return 1
        log.info("stopped: %s", dict(listener.stats))
        return 0
    finally:
        await handler.close()
        await pool.close()
