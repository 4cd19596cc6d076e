"""The web application: one ASGI app for the public pages, the JSON API and the admin panel.

One pool per process, opened at start-up (fail fast) and closed on exit, handed to the routes
through FastAPI's dependencies (deps.Calls).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..db import create_pool
from ..settings import Settings
from ..texts import say
from . import admin, api, auth, board, health, people, ranks
from .deps import PageError, SignInNeeded, language
from .discord_oauth import DiscordOAuth
from .limits import RateLimit
from .render import error_page, page
from .security import CSP_SIGN_IN, SecurityHeaders
from .sqlapi import WebCalls

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SESSION_DAYS = 30


def create_app(settings: Settings, database_url: str, *, pool_size: int = 8) -> FastAPI:
    secret = settings.require_web_secret()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = create_pool(database_url, min_size=1, max_size=pool_size, name="xpsync-web")
        await pool.open(wait=True, timeout=10)
        admin_pool = None
        if settings.admin_database_url is not None:  # the admin panel's changes; without it, read-only
            admin_pool = create_pool(settings.admin_database_url.reveal(), min_size=1, max_size=2,
                                     name="xpsync-web-admin")
            await admin_pool.open(wait=True, timeout=10)
        app.state.calls = WebCalls(pool)
        admin.start(app, pool, database_url, admin_pool)
        tasks = [asyncio.create_task(_refresh_places(app.state.calls), name="xpsync-web-places"),
                 asyncio.create_task(app.state.pulse.run(), name="xpsync-web-admin-pulse")]
        try:
            yield
        finally:
            await app.state.pulse.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if admin_pool is not None:
                await admin_pool.close()
            await pool.close()

    app = FastAPI(title="xpsync", version=__version__, lifespan=lifespan, openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="The community's leaderboard and profiles as JSON. Send `Authorization: Bearer KEY` "
                              "(made by `xpsync web api-key create NAME`) or, when the site is public, nothing; "
                              "120 requests a minute per key, or per address without one.")
    app.state.settings = settings
    app.state.api_limit = RateLimit(api.LIMIT_PER_MINUTE)
    app.state.sign_in_limit = RateLimit(10)
    app.state.discord_oauth = None
    if settings.discord_client_id is not None and settings.discord_client_secret is not None:
        app.state.discord_oauth = DiscordOAuth(
            settings.discord_client_id, settings.discord_client_secret.reveal(), settings.discord_oauth_url,
            settings.discord_api_base, settings.public_url + "/auth/discord/callback")
    for module in (board, people, ranks, auth, health, api):
        app.include_router(module.router)
    app.include_router(api.docs)
    admin.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="xpsync_session",
                       max_age=SESSION_DAYS * 86400, same_site="lax",
                       https_only=settings.public_url.startswith("https://"))
    app.add_middleware(SecurityHeaders)
    _handlers(app)
    return app


async def _refresh_places(calls: WebCalls) -> None:
    """Keep the board marks that places are counted from fresh (the function skips fresh ones)."""
    while True:
        try:
            await calls.refresh_places()
        except (psycopg.Error, PoolTimeout) as exc:
            log.info("places not refreshed: %s", type(exc).__name__)
        await asyncio.sleep(5)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(api.ApiError)
    async def api_error(request: Request, exc: api.ApiError) -> Response:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        lang = language(request)
        return error_page(request, exc.status, say(lang, exc.title), say(lang, exc.text, **exc.values))

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, exc: SignInNeeded) -> Response:
        language(request)
        request.state.csp = CSP_SIGN_IN
        return page(request, "sign_in.html", status=401, notice="web_members_only",
                    **auth.sign_in_context(request, request.url.path))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            message = "not found" if exc.status_code == 404 else str(exc.detail)
            return JSONResponse({"error": message}, status_code=exc.status_code)
        lang = language(request)
        if exc.status_code == 404:
            return error_page(request, 404, say(lang, "web_not_found"), say(lang, "web_not_found_text"))
        return error_page(request, exc.status_code, say(lang, "web_bad_request"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        if _is_api(request):
            return JSONResponse({"error": problems}, status_code=400)
        lang = language(request)
        return error_page(request, 400, say(lang, "web_bad_request"), problems)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        unavailable = isinstance(exc, (psycopg.OperationalError, PoolTimeout))
        if not unavailable:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        status = 503 if unavailable else 500
        if _is_api(request):
            return JSONResponse({"error": "the service is unavailable" if unavailable else "internal error"},
                                status_code=status)
        lang = language(request)
        return error_page(request, status, say(lang, "web_error"), say(lang, "web_error_text"))
