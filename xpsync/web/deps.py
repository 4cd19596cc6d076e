"""What the routes are handed by FastAPI's dependencies: the process's calls (one pool), the
visitor (language, signed-in member) and the visibility rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from ..vocabulary import LANGUAGES
from .language import pick
from .members import Member, signed_in
from .sqlapi import WebCalls


class PageError(Exception):
    """Answered with the error page: a title and a text from the catalogue."""

    def __init__(self, status: int, title: str, text: str, **values: object) -> None:
        super().__init__(title)
        self.status, self.title, self.text, self.values = status, title, text, values


class SignInNeeded(Exception):
    """The board is for members (web.visibility = members) and the visitor is anonymous."""


def language(request: Request) -> str:
    """?lang= (remembered in the session), else the one chosen before, else Accept-Language."""
    if not hasattr(request.state, "lang"):
        asked = request.query_params.get("lang")
        session = request.scope.get("session")  # absent when an error is answered outside the middleware
        if session is not None and asked in LANGUAGES and session.get("lang") != asked:
            session["lang"] = asked
        chosen = session.get("lang") if session is not None else None
        request.state.lang = pick(asked, chosen, request.headers.get("accept-language"))
    return request.state.lang


def get_calls(request: Request) -> WebCalls:
    return request.app.state.calls


Calls = Annotated[WebCalls, Depends(get_calls)]


async def get_visitor(request: Request, calls: Calls) -> Member | None:
    language(request)
    member = await signed_in(request, calls)
    request.state.member = member
    return member


Visitor = Annotated[Member | None, Depends(get_visitor)]


async def get_viewer(request: Request, calls: Calls, member: Visitor) -> Member | None:
    """A visitor allowed to see the board, profiles and cards under web.visibility."""
    visibility = await calls.visibility()
    if visibility == "off":
        raise PageError(403, "web_site", "web_site_off")
    if visibility == "members" and member is None:
        raise SignInNeeded
    return member


Viewer = Annotated[Member | None, Depends(get_viewer)]
