"""/admin/audit: every change operators made, in the panel or from psql, newest first, live: who
(the actor, and the database login that ran it), what, on what, and the detail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .access import CurrentOperator, reads
from .layout import admin_page
from .people import cursor_param

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


async def entries(request: Request) -> dict[str, Any]:
    q = (request.query_params.get("q") or "").strip()[:100] or None
    before = cursor_param(request.query_params.get("before"))
    rows = await reads(request).audit(before, PER_PAGE + 1, q)
    return {"q": q or "", "entries": rows[:PER_PAGE], "more": len(rows) > PER_PAGE, "before": before}


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/audit.html", **await entries(request))


@router.get("/admin/fragments/audit", response_class=HTMLResponse)
async def audit_live(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/audit_rows.html", **await entries(request))
