"""`xpsync web`: the web application under uvicorn until SIGTERM; and `xpsync web api-key create`."""

from __future__ import annotations

import logging

import psycopg
import uvicorn

from ..settings import Settings
from .app import create_app

log = logging.getLogger(__name__)


def server(settings: Settings, database_url: str, *, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    app = create_app(settings, database_url)
    config = uvicorn.Config(
        app, host=host or settings.web_host, port=settings.web_port if port is None else port,
        # no access log: query strings carry sign-in data (and, for the admin panel, tokens)
        access_log=False, log_config=None, proxy_headers=True, server_header=False,
        timeout_graceful_shutdown=10,
    )
    return uvicorn.Server(config)


def run(settings: Settings, database_url: str) -> int:
    settings.require_web_secret()  # one line naming XPSYNC_WEB_SECRET, before anything else
    log.info("serving the web on %s:%s (public URL %s)", settings.web_host, settings.web_port, settings.public_url)
    web = server(settings, database_url)
    web.run()
    return 0 if web.started else 1


def create_api_key(url: str, name: str) -> str:
    """A new key for the JSON API (shown once; the database keeps only its hash)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT xp.create_api_key(%s)", (name,)).fetchone()
    assert row is not None
    return row[0]
