"""/admin/deliveries: the outbox by target, status and error, live; retry or discard one delivery, or
every delivery the filter matches (never one a listener holds under a lease)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...vocabulary import DELIVERY_STATUSES, TARGETS
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page
from .people import cursor_param

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def filters(params: QueryParams | dict[str, str]) -> dict[str, str | None]:
    """target, status and error from a query or a form; anything unknown is a 400 page."""
    target = params.get("target") or None
    status = params.get("status") or None
    error = (params.get("error") or "").strip()[:200] or None
    if (target is not None and target not in TARGETS) or (status is not None and status not in DELIVERY_STATUSES):
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    return {"target": target, "status": status, "error": error}


async def listing(request: Request) -> dict[str, Any]:
    chosen = filters(request.query_params)
    before = cursor_param(request.query_params.get("before"))
    rows = await reads(request).deliveries(chosen["target"], chosen["status"], chosen["error"], before, PER_PAGE + 1)
    return {"chosen": chosen, "rows": rows[:PER_PAGE], "more": len(rows) > PER_PAGE, "before": before,
            "matching": await reads(request).delivery_count(chosen["target"], chosen["status"], chosen["error"]),
            "targets": TARGETS, "statuses": DELIVERY_STATUSES, "flash_text": request.session.pop("admin_flash", None)}


@router.get("/admin/deliveries", response_class=HTMLResponse)
async def deliveries(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/deliveries.html", **await listing(request))


@router.get("/admin/fragments/deliveries", response_class=HTMLResponse)
async def deliveries_live(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/deliveries_rows.html", **await listing(request))


async def act(request: Request, changes: Changes, action: str, delivery: str, every: str) -> Response:
    form = await request.form()
    chosen = filters({k: v for k, v in form.items() if isinstance(v, str)})
    if every == "yes":
        ids = None
    elif delivery.isdigit() and len(delivery) <= 18:
        ids = [int(delivery)]
    else:
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    run = changes.retry if action == "retry" else changes.discard
    n = await run(chosen["target"], chosen["status"], chosen["error"], ids)
    request.session["admin_flash"] = ["admin_retried" if action == "retry" else "admin_discarded", {"n": str(n)}]
    query = urlencode({k: v for k, v in chosen.items() if v})
    return RedirectResponse("/admin/deliveries" + (f"?{query}" if query else ""), status_code=303)


@router.post("/admin/deliveries/retry")
async def retry(request: Request, changes: Changes, delivery: str = Form(""), every: str = Form("")) -> Response:
    return await act(request, changes, "retry", delivery, every)


@router.post("/admin/deliveries/discard")
async def discard(request: Request, changes: Changes, delivery: str = Form(""), every: str = Form("")) -> Response:
    return await act(request, changes, "discard", delivery, every)
