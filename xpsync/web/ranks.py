"""The rank ladder, and the stylesheet that gives each rank its color (operators set the colors)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .deps import Calls, Viewer
from .render import page

router = APIRouter(include_in_schema=False)


@router.get("/ranks", response_class=HTMLResponse)
async def ladder(request: Request, calls: Calls, viewer: Viewer) -> HTMLResponse:
    return page(request, "ranks.html", ladder=await calls.ladder())


@router.get("/assets/ranks.css")
async def rank_colors(calls: Calls) -> Response:
    # colors are checked by the table (#RRGGBB), so they are safe inside CSS
    css = "".join(f".rank-{r['id']}{{--rank:{r['color']}}}\n" for r in await calls.ladder())
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=60"})
