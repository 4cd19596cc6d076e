"""Entering the panel: a login link's page (one click, a POST, before it signs in: a link opened by a
mail scanner or a chat preview uses nothing up), signing out, and making login links.

A login link is `XPSYNC_PUBLIC_URL/admin/login?token=…`. The token is made here, shown once, and
only its SHA-256 reaches the database (`xp.create_admin_token`), so it appears in no server log;
uvicorn's access log drops query strings (serve.py) and the login page sends no Referer.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg
from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..deps import PageError, language
from ..security import csrf_ok
from . import access
from .layout import admin_page

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TOKEN_PREFIX = "xpa_"  # noqa: S105 - what every login token starts with, not a secret


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class LoginLink:
    name: str
    role: str
    url: str
    expires_at: datetime


def create_login_link(url: str, public_url: str, name: str, role: str, hours: float) -> LoginLink:
    """A new login link for NAME (made with the admin's login, `url`); the token is in nothing but it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT xp.create_admin_token(%s, %s, %s, make_interval(secs => %s))",
                           (name, role, digest(token), hours * 3600)).fetchone()
    assert row is not None
    return LoginLink(name, role, f"{public_url}/admin/login?token={token}", row[0])


def revoke_login_links(url: str, name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT xp.revoke_admin_tokens(%s)", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def _private(request: Request) -> None:
    """This page's address holds a token: it is sent nowhere as a Referer."""
    request.state.referrer = "no-referrer"


@router.get("/admin/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    language(request)
    _private(request)
    token = request.query_params.get("token", "")
    return admin_page(request, "admin/login.html", token=token if token.startswith(TOKEN_PREFIX) else "")


@router.post("/admin/login")
async def login(request: Request, token: str = Form(""), csrf: str = Form("")) -> Response:
    language(request)
    _private(request)
    if not csrf_ok(request.session, csrf):
        raise PageError(403, "web_bad_request", "admin_stale_form")
    wait = request.app.state.sign_in_limit.hit(request.client.host if request.client else "?")
    if wait:
        raise PageError(429, "web_bad_request", "web_too_many", seconds=wait)
    used = await access.reads(request).use_token(digest(token)) if token.startswith(TOKEN_PREFIX) else None
    if used is None:
        log.info("an admin login link was refused (used, expired, revoked or unknown)")
        raise PageError(400, "admin_login_title", "admin_login_refused")
    access.sign_in_with_token(request, used["token_id"], used["name"])
    log.info("%s signed in to the admin panel (%s)", used["name"], used["role"])
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/sign-out")
async def sign_out(request: Request, csrf: str = Form("")) -> Response:
    if not csrf_ok(request.session, csrf):
        raise PageError(403, "web_bad_request", "admin_stale_form")
    access.sign_out(request)
    return RedirectResponse("/", status_code=303)


def entry_page(request: Request) -> HTMLResponse:
    """For a visitor who is no operator: how to become one (401), or why not (403)."""
    language(request)
    settings = request.app.state.settings
    signed_in_with_discord = (request.session.get("account") or [None])[0] == "discord"
    return admin_page(request, "admin/entry.html", status=403 if signed_in_with_discord else 401,
                      discord=settings.discord_sign_in and bool(settings.admin_guilds),
                      refused=signed_in_with_discord)
