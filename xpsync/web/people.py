"""A member's profile, their rank card as a PNG, and the privacy toggle on one's own profile."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..cards import Card, card_png
from .deps import Calls, PageError, Viewer, Visitor
from .render import page
from .security import csrf_ok

router = APIRouter(include_in_schema=False)

CHART_WIDTH, CHART_HEIGHT = 300, 60


def user_id_of(raw: str) -> int:
    """A person id from the path; anything else is a 404, not an error."""
    if not raw.isdigit() or len(raw) > 18:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return int(raw)


async def visible_profile(calls: Calls, raw: str, viewer_id: int | None) -> dict[str, Any]:
    profile = await calls.public_profile(user_id_of(raw), viewer_id)
    if profile is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return profile


def chart(activity: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of an inline SVG for XP per day (attributes only: the CSP allows no inline style)."""
    top = max((day["xp"] for day in activity), default=0) or 1
    width = CHART_WIDTH / max(len(activity), 1)
    bars = []
    for i, day in enumerate(activity):
        height = round(CHART_HEIGHT * max(day["xp"], 0) / top, 1)
        bars.append({"x": round(i * width, 1), "y": round(CHART_HEIGHT - height, 1), "width": round(width - 1, 1),
                     "height": height, "day": day["day"], "xp": day["xp"]})
    return bars


@router.get("/u/{user_id}", response_class=HTMLResponse)
async def profile(request: Request, user_id: str, calls: Calls, viewer: Viewer) -> HTMLResponse:
    person = await visible_profile(calls, user_id, viewer.user_id if viewer else None)
    rank, upcoming = person["rank"], person["next_rank"]
    progress = 100 if upcoming is None else round(
        100 * (person["xp"] - rank["min_xp"]) / max(upcoming["min_xp"] - rank["min_xp"], 1))
    return page(request, "profile.html", person=person, progress=progress, bars=chart(person["activity"]),
                chart_width=CHART_WIDTH, chart_height=CHART_HEIGHT,
                own=viewer is not None and viewer.user_id == person["user_id"])


@router.get("/u/{user_id}/card.png")
async def card(request: Request, user_id: str, calls: Calls, viewer: Viewer) -> Response:
    person = await visible_profile(calls, user_id, viewer.user_id if viewer else None)
    drawn = Card.from_profile(person, request.state.lang)
    etag = '"' + hashlib.sha256(repr(drawn).encode()).hexdigest()[:32] + '"'
    # revalidated every time: a person who chose privacy must not stay in caches
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(card_png(drawn), media_type="image/png", headers=headers)


@router.post("/me/privacy")
async def privacy(request: Request, calls: Calls, member: Visitor, hidden: str = Form(""),
                  csrf: str = Form("")) -> Response:
    if member is None:
        raise PageError(403, "web_bad_request", "web_sign_in_title")
    if not csrf_ok(request.session, csrf):
        raise PageError(403, "web_bad_request", "web_expired_state")
    await calls.set_privacy(*member.account.key, hidden == "on")
    return RedirectResponse(f"/u/{member.user_id}", status_code=303)
