"""Security headers on every answer (CSP with frame-ancestors 'none'), CSRF tokens, and safe `next` paths."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# the Telegram Login Widget is Telegram's own script and frame, on the sign-in page only
CSP_SIGN_IN = CSP.replace("script-src 'self'", "script-src 'self' https://telegram.org") + (
    "; frame-src https://oauth.telegram.org")
# Swagger UI sets inline styles
CSP_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
REFERRER = "same-origin"


class SecurityHeaders:
    """Adds the headers to every HTTP answer; a route may widen the CSP through request.state.csp, and
    narrow the referrer policy through request.state.referrer (a page whose address holds a secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                message["headers"] = [*message.get("headers", []), *HEADERS,
                                      (b"referrer-policy", state.get("referrer", REFERRER).encode()),
                                      (b"content-security-policy", state.get("csp", CSP).encode())]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_next(value: str | None) -> str:
    """A `next` that can only lead to a path on this site (never another host, scheme or `//host`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def csrf_ok(session: dict[str, Any], presented: str | None) -> bool:
    token = session.get("csrf")
    return isinstance(token, str) and isinstance(presented, str) and hmac.compare_digest(token, presented)
