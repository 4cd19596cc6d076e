"""The live admin panel (/admin), in the web's own process: its page groups, one module each, and
how the app takes it in (`install`). What an operator may do is in access.py; the live parts in
pulse.py and events.py; the frame and how to add a page in layout.py."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import (
    audit,
    deliveries,
    events,
    login,
    overview,
    people,
    reconcile,
    reviews,
    tables,
    thresholds,
    tunables,
    void,
    wording,
)
from .access import NotOperator
from .pulse import Pulse
from .reads import AdminReads

ROUTERS = (login.router, events.router, overview.router, people.router, deliveries.router, tunables.router,
           tables.router, thresholds.router, reconcile.router, void.router, audit.router, wording.router,
           reviews.router)


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.state.admin_keepalive = events.KEEPALIVE
    app.state.closing = asyncio.Event()

    @app.exception_handler(NotOperator)
    async def not_operator(request: Request, exc: NotOperator) -> Response:
        if request.headers.get("hx-request") == "true" or request.url.path == "/admin/events":
            return PlainTextResponse("sign in to the admin panel", status_code=401)
        return login.entry_page(request)


def start(app: FastAPI, web_pool: AsyncConnectionPool, web_url: str, admin_pool: AsyncConnectionPool | None) -> None:
    """At start-up: the panel reads with the web's pool and changes with the admin's (None: read-only)."""
    app.state.admin_reads = AdminReads(web_pool)
    app.state.admin_pool = admin_pool
    app.state.pulse = Pulse(web_url, app.state.closing)
