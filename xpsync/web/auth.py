"""Sign-in with Discord (OAuth2 code flow) and Telegram (Login Widget), sign-out, and linking two
accounts by signing in with the second one after a confirmation page."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import LinkConflict, RedeemLocked, UnknownAccount
from . import members
from .deps import Calls, PageError, Visitor, language
from .discord_oauth import OAuthFailed
from .members import Account
from .render import page
from .security import CSP_SIGN_IN, csrf_ok, safe_next
from .telegram_login import LoginRefused, display_name, verify

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

STATE_SECONDS = 600  # an OAuth state, a Telegram sign-in or a pending link older than this is refused
TELEGRAM_STATES = 3  # sign-in pages one browser may have open at once


def _limited(request: Request) -> None:
    """At most 10 sign-in attempts a minute per address."""
    wait = request.app.state.sign_in_limit.hit(request.client.host if request.client else "?")
    if wait:
        raise PageError(429, "web_bad_request", "web_too_many", seconds=wait)


def _check_csrf(request: Request, token: str) -> None:
    if not csrf_ok(request.session, token):
        raise PageError(403, "web_bad_request", "web_expired_state")


def telegram_auth_url(request: Request, target: str | None) -> str:
    """Where the Login Widget sends the browser back, with a state kept in this browser's session.

    The widget's redirect carries nothing of Telegram's that ties it to the browser that asked, so a
    link made with someone else's signed fields would sign a visitor in as them (login CSRF):
    /auth/telegram takes only a state this page handed out, once, within STATE_SECONDS."""
    state = secrets.token_urlsafe(16)
    kept = [s for s in request.session.get("telegram_states", [])
            if isinstance(s, list) and len(s) == 2 and isinstance(s[1], int) and time.time() - s[1] <= STATE_SECONDS]
    request.session["telegram_states"] = [*kept[-(TELEGRAM_STATES - 1):], [state, int(time.time())]]
    query = {"next": safe_next(target)} if target else {}
    return f"{request.app.state.settings.public_url}/auth/telegram?" + urlencode({**query, "state": state})


def _telegram_started_here(request: Request, state: str) -> bool:
    """The state is one our sign-in page handed this browser, fresh; it is used up."""
    kept = request.session.get("telegram_states", [])
    for entry in kept if isinstance(kept, list) else []:
        if (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and secrets.compare_digest(entry[0], state)):
            request.session["telegram_states"] = [e for e in kept if e is not entry]
            return isinstance(entry[1], int) and time.time() - entry[1] <= STATE_SECONDS
    return False


def sign_in_context(request: Request, target: str | None) -> dict[str, Any]:
    """What the sign-in page needs: the buttons' way back to `target`, and the widget's."""
    settings = request.app.state.settings
    suffix = "?" + urlencode({"next": safe_next(target)}) if target else ""
    return {"suffix": suffix, "bot_username": settings.telegram_bot_username,
            "telegram_auth_url": telegram_auth_url(request, target) if settings.telegram_sign_in else None}


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, member: Visitor) -> HTMLResponse:
    request.state.csp = CSP_SIGN_IN
    return page(request, "sign_in.html", **sign_in_context(request, request.query_params.get("next")))


@router.get("/auth/discord")
async def discord_start(request: Request) -> Response:
    oauth = request.app.state.discord_oauth
    if oauth is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    language(request)
    _limited(request)
    state = secrets.token_urlsafe(24)
    target = request.query_params.get("next")
    request.session["oauth"] = {"state": state, "next": safe_next(target) if target else None,
                                "at": int(time.time())}
    return RedirectResponse(oauth.authorize(state), status_code=303)


@router.get("/auth/discord/callback")
async def discord_callback(request: Request, calls: Calls) -> Response:
    oauth = request.app.state.discord_oauth
    if oauth is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    language(request)
    _limited(request)
    started = request.session.pop("oauth", None)
    state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
    if (not isinstance(started, dict) or not isinstance(started.get("state"), str)
            or not secrets.compare_digest(started["state"], state)
            or time.time() - int(started.get("at", 0)) > STATE_SECONDS):
        raise PageError(400, "web_bad_request", "web_expired_state")
    if not code:
        raise PageError(400, "web_bad_request", "web_bad_login")
    try:
        user = await oauth.user(code)
    except OAuthFailed as exc:
        log.warning("Discord sign-in failed: %s", exc)
        raise PageError(400, "web_bad_request", "web_bad_login") from None
    request.session["guilds"] = list(user.managed_guilds)
    return await _signed_in(request, calls, Account("discord", user.id, user.name), started.get("next"))


@router.get("/auth/telegram")
async def telegram_callback(request: Request, calls: Calls) -> Response:
    settings = request.app.state.settings
    if not settings.telegram_sign_in:
        raise PageError(404, "web_not_found", "web_not_found_text")
    language(request)
    _limited(request)
    if not _telegram_started_here(request, request.query_params.get("state", "")):
        log.info("Telegram sign-in refused: it did not start on our sign-in page in this browser")
        raise PageError(400, "web_bad_request", "web_expired_state")
    try:
        fields = verify(request.query_params, settings.require_telegram_token())
    except LoginRefused as exc:
        log.info("Telegram sign-in refused: %s", exc)
        raise PageError(400, "web_bad_request", "web_bad_login") from None
    account = Account("telegram", fields["id"], display_name(fields))
    return await _signed_in(request, calls, account, request.query_params.get("next"))


async def _signed_in(request: Request, calls: Calls, account: Account, target: str | None) -> Response:
    """Sign in with a verified account, or, when another person is signed in with the other
    platform, ask first whether to link the two."""
    current = Account.from_session(request.session.get("account"))
    if current is not None and current.platform != account.platform:
        mine = await calls.account_person(*current.key)
        theirs = await calls.account_person(*account.key)
        if mine is not None and theirs != mine:
            request.session["pending_link"] = [*account.as_session(), int(time.time())]
            return RedirectResponse("/link", status_code=303)
    user_id = await calls.sign_in(account.platform, account.external_id, account.name)
    members.sign_in(request, account)
    return RedirectResponse(safe_next(target) if target else f"/u/{user_id}", status_code=303)


def _pending(request: Request) -> Account:
    value = request.session.get("pending_link")
    if (not isinstance(value, list) or len(value) != 4 or not isinstance(value[3], int)
            or time.time() - value[3] > STATE_SECONDS):
        request.session.pop("pending_link", None)
        raise PageError(400, "web_bad_request", "web_expired_state")
    account = Account.from_session(value[:3])
    if account is None:
        raise PageError(400, "web_bad_request", "web_expired_state")
    return account


@router.get("/link", response_class=HTMLResponse)
async def link_page(request: Request, calls: Calls, member: Visitor) -> HTMLResponse:
    if member is None:
        raise PageError(403, "web_bad_request", "web_expired_state")
    other = _pending(request)
    theirs_id = await calls.account_person(*other.key)
    mine = await calls.public_profile(member.user_id, member.user_id)
    # the visitor proved they hold the other account, so its profile is theirs to see
    theirs = await calls.public_profile(theirs_id, theirs_id) if theirs_id is not None else None
    preview, refused = None, None
    try:
        preview = await calls.link(member.account.key, other.key, dry_run=True)
    except (LinkConflict, RedeemLocked) as exc:
        refused = exc.message
    return page(request, "link.html", status=409 if refused else 200, mine=mine, theirs=theirs, other=other,
                preview=preview, refused=refused)


@router.post("/link")
async def link_confirm(request: Request, calls: Calls, member: Visitor, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    if member is None:
        raise PageError(403, "web_bad_request", "web_expired_state")
    other = _pending(request)
    try:
        merged = await calls.link(member.account.key, other.key, dry_run=False)
    except (LinkConflict, RedeemLocked, UnknownAccount) as exc:
        request.session.pop("pending_link", None)
        raise PageError(409, "web_bad_request", "web_link_refused", detail=exc.message) from None
    request.session.pop("pending_link", None)
    request.session["flash"] = "web_linked"
    return RedirectResponse(f"/u/{merged['user_id']}", status_code=303)


@router.post("/link/cancel")
async def link_cancel(request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    request.session.pop("pending_link", None)
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    members.sign_out(request)
    return RedirectResponse("/", status_code=303)
