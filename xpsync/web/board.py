"""The leaderboard page: periods, 50 a page, search by name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..errors import InvalidArgument
from ..vocabulary import PERIODS
from .deps import Calls, PageError, Viewer
from .render import page

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
MAX_SKIP = 100_000_000  # what xp.leaderboard accepts; further pages are past the end anyway


def page_number(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 12:
        raise PageError(400, "web_bad_request", "web_bad_page")
    return int(raw)


@router.get("/", response_class=HTMLResponse)
async def board(request: Request, calls: Calls, viewer: Viewer) -> HTMLResponse:
    period = request.query_params.get("period") or "all"
    if period not in PERIODS:
        raise PageError(400, "web_bad_request", "web_bad_period")
    number = page_number(request.query_params.get("page"))
    query = (request.query_params.get("q") or "").strip()[:100]
    skip = (number - 1) * PER_PAGE
    rows, no_season = [], False
    if skip <= MAX_SKIP:
        try:
            rows = await calls.leaderboard(period, PER_PAGE + 1, skip, query or None)
        except InvalidArgument:
            if period != "season":
                raise
            no_season = True
    ranks = await calls.ranks_by_id()
    context: dict[str, Any] = {
        "period": period, "periods": PERIODS, "page_number": number, "query": query,
        "rows": rows[:PER_PAGE], "has_next": len(rows) > PER_PAGE, "ranks": ranks, "no_season": no_season,
        "size": None if query or no_season else await calls.board_size(period),
    }
    template = "board_rows.html" if request.headers.get("hx-request") == "true" else "board.html"
    response = page(request, template, **context)
    response.headers["Vary"] = "HX-Request, Accept-Language, Cookie"  # the rows alone for htmx
    return response
