"""Pages from the Jinja2 templates beside the routes; names and every other value are escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..texts import say
from .members import PLATFORM_NAMES
from .security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
TEMPLATES.env.filters["number"] = lambda n: f"{n:,}".replace(",", " ") if isinstance(n, int) else "—"


def with_query(request: Request, **changes: Any) -> str:
    """The current path with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = request.state.lang
    member = getattr(request.state, "member", None)
    settings = request.app.state.settings
    session = request.scope.get("session")
    return TEMPLATES.TemplateResponse(request, template, {
        "lang": lang,
        "t": lambda key, **values: say(lang, key, **values),
        "member": member,
        "csrf": csrf_token(session) if member is not None and session is not None else None,
        "flash": session.pop("flash", None) if session else None,
        "discord_sign_in": settings.discord_sign_in,
        "telegram_sign_in": settings.telegram_sign_in,
        "platform_names": PLATFORM_NAMES,
        "with_query": lambda **changes: with_query(request, **changes),
        "other_lang": "ru" if lang == "en" else "en",
        **context,
    }, status_code=status)


def error_page(request: Request, status: int, title: str, text: str) -> HTMLResponse:
    return page(request, "error.html", status=status, title=title, text=text)
