"""The JSON API (/api/v1): the board and the public part of a person's profile, with API keys,
rate limits, JSON errors, OpenAPI at /api/openapi.json and docs at /api/docs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..errors import InvalidArgument
from ..vocabulary import PLATFORMS
from .deps import Calls, get_visitor
from .members import Member
from .security import CSP_DOCS

router = APIRouter(prefix="/api/v1", tags=["v1"])
docs = APIRouter(include_in_schema=False)

LIMIT_PER_MINUTE = 120


class ApiError(Exception):
    """Answered as JSON {"error": message} with the status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class Rank(BaseModel):
    id: int
    name: str
    tier: str
    stars: int
    color: str
    emoji: str


class Entry(BaseModel):
    place: int
    user_id: int
    display_name: str | None
    xp: int
    rank: Rank


class Board(BaseModel):
    period: str
    total: int
    entries: list[Entry]


class NextRank(BaseModel):
    id: int
    name: str
    min_xp: int
    xp_remaining: int


class Places(BaseModel):
    all: int | None
    season: int | None
    month: int | None
    week: int | None


class Achievement(BaseModel):
    code: str
    name: str
    emoji: str
    unlocked_at: str


class Person(BaseModel):
    user_id: int
    display_name: str | None
    xp: int
    coins: int
    rank: Rank
    next_rank: NextRank | None
    place: int | None
    places: Places
    season_xp: int | None
    week_xp: int
    month_xp: int
    platforms: list[str]
    achievements: list[Achievement]


class Error(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Error} for code in (400, 401, 403, 404, 429)}


async def client(request: Request, calls: Calls) -> str:
    """Who is calling: an API key's name, or an address; checks the key, visibility and the rate limit."""
    header = request.headers.get("authorization", "")
    name = None
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "Authorization must be 'Bearer KEY'")
        name = await calls.api_key_name(key.strip())
        if name is None:
            raise ApiError(401, "unknown or revoked API key")
    who = f"key:{name}" if name else f"address:{request.client.host if request.client else '?'}"
    wait = request.app.state.api_limit.hit(who)
    if wait:
        raise ApiError(429, f"more than {LIMIT_PER_MINUTE} requests a minute; retry after {wait} s",
                       {"Retry-After": str(wait)})
    if name is None:
        visibility = await calls.visibility()
        member: Member | None = await get_visitor(request, calls) if visibility == "members" else None
        if visibility == "off" or (visibility == "members" and member is None):
            raise ApiError(401, "this API needs an API key: Authorization: Bearer KEY")
    return who


Client = Annotated[str, Depends(client)]


def rank_of(rank: dict[str, Any]) -> dict[str, Any]:
    return {k: rank[k] for k in ("id", "name", "tier", "stars", "color", "emoji")}


@router.get("/leaderboard", response_model=Board, responses=ERRORS, summary="A page of a board")
async def leaderboard(calls: Calls, who: Client,
                      period: Annotated[str, Query(pattern="^(all|season|month|week)$")] = "all",
                      limit: Annotated[int, Query(ge=1, le=100)] = 10,
                      offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0) -> dict[str, Any]:
    """People by XP: all time, or gained this season, UTC month or UTC week; hidden people are left out."""
    try:
        rows = await calls.leaderboard(period, limit, offset)
    except InvalidArgument as exc:
        raise ApiError(400, exc.message) from None
    ranks = await calls.ranks_by_id()
    return {"period": period, "total": await calls.board_size(period), "entries": [
        {"place": r["place"], "user_id": r["user_id"], "display_name": r["display_name"], "xp": r["xp"],
         "rank": rank_of(ranks[r["rank_id"]])} for r in rows]}


@router.get("/people/{platform}/{external_id}", response_model=Person, responses=ERRORS,
            summary="The public part of a person's profile")
async def person(platform: str, external_id: str, calls: Calls, who: Client) -> dict[str, Any]:
    """By one of their accounts (platform discord or telegram); 404 for someone unknown or hidden."""
    if platform not in PLATFORMS:
        raise ApiError(400, f"unknown platform {platform[:40]!r}: expected discord, telegram or website")
    if not 1 <= len(external_id) <= 200:
        raise ApiError(400, "external_id must be 1 to 200 characters")
    user_id = await calls.account_person(platform, external_id)
    profile = await calls.public_profile(user_id) if user_id is not None else None
    if profile is None:
        raise ApiError(404, "nobody public has that account")
    return {**profile, "rank": rank_of(profile["rank"]),
            "achievements": [{k: a[k] for k in ("code", "name", "emoji", "unlocked_at")}
                             for a in profile["achievements"]]}


DOCS_PAGE = (Path(__file__).resolve().parent / "templates" / "api_docs.html").read_text()


@docs.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    request.state.csp = CSP_DOCS
    return HTMLResponse(DOCS_PAGE)
