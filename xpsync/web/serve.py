"""`xpsync web`: the web application under uvicorn until SIGTERM; and `xpsync web api-key create`."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import uvicorn
from fastapi import FastAPI

from ..db import masked
from ..migrate import MigrationRefused
from ..settings import ConfigError, Settings
from .app import create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn's server, but a SIGTERM or SIGINT ends it with exit 0 once requests in flight are done
    (uvicorn re-raises the signal after shutting down, which systemd would count as a failure), and
    the admin panel's event streams end first (uvicorn waits for every open response)."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.web_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        pulse = getattr(self.web_app.state, "pulse", None)
        if pulse is not None:
            await pulse.close()
        await super().shutdown(sockets=sockets)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class WithoutQuery(logging.Filter):
    """uvicorn's access log line without the query string: it carries sign-in data (the Telegram
    widget's signed fields, OAuth codes) and the admin panel's login tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQuery) for f in access.filters):
        access.addFilter(WithoutQuery())


def server(settings: Settings, database_url: str, *, pool_size: int = 8) -> uvicorn.Server:
    _access_log()
    app = create_app(settings, database_url, pool_size=pool_size)
    config = uvicorn.Config(
        app, host=settings.web_host, port=settings.web_port, access_log=True, log_config=None, proxy_headers=True,
        server_header=False, timeout_graceful_shutdown=10,
    )
    return _Server(config, app)


def check_login(url: str) -> None:
    """The web's functions are there and this login may call them; else one line saying what to do."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT xp.web_settings()")
    except psycopg.errors.UndefinedFunction:
        raise MigrationRefused(f"the database at {masked(url)} has no web functions yet: "
                               "run `xpsync migrate`") from None
    except psycopg.errors.InsufficientPrivilege:
        raise ConfigError(f"DATABASE_URL ({masked(url)}) logs in as a role that is not in xp_web: "
                          "the web needs a login role IN ROLE xp_web (docs/web.md)") from None


def run(settings: Settings, database_url: str) -> int:
    settings.require_web_secret()  # one line naming XPSYNC_WEB_SECRET, before anything else
    check_login(database_url)
    log.info("serving the web on %s:%s (public URL %s)", settings.web_host, settings.web_port, settings.public_url)
    web = server(settings, database_url)
    web.run()
    return 0 if web.started else 1


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def in_thread(settings: Settings, database_url: str, *, pool_size: int = 4) -> Iterator[str]:
    """The web on a thread and event loop of its own (the demo, browser tests); yields its public URL.
    Off the main thread uvicorn leaves the process's signal handlers alone."""
    web = server(settings, database_url, pool_size=pool_size)
    thread = threading.Thread(target=lambda: asyncio.run(web.serve()), name="xpsync-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        if time.monotonic() > deadline or not thread.is_alive():
            web.should_exit = True
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield settings.public_url
    finally:
        web.should_exit = True
        thread.join(20)


def create_api_key(url: str, name: str) -> str:
    """A new key for the JSON API (shown once; the database keeps only its hash)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT xp.create_api_key(%s)", (name,)).fetchone()
    assert row is not None
    return row[0]
