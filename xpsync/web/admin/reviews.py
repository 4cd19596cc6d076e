"""/admin/quests and /admin/shop: the review queues, live. Quest submissions wait for an operator to
approve (the quest pays, once per family and window) or decline them with a note; purchases of items
a person must hand over wait to be approved or declined (refunded). The member hears of it on the
platform they came from. What the quests and items are is edited on /admin/tables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)

QUEUES = ("quests", "shop")
STATES = ("pending", "approved", "declined")


def state_of(request: Request) -> str | None:
    state = request.query_params.get("state") or "pending"
    if state not in (*STATES, "all"):
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    return None if state == "all" else state


async def queue(request: Request, which: str) -> dict[str, Any]:
    state = state_of(request)
    rows = await (reads(request).submissions(state) if which == "quests" else reads(request).purchases(state))
    return {"which": which, "rows": rows, "state": state or "all", "states": (*STATES, "all"),
            "flash_text": request.session.pop("admin_flash", None)}


@router.get("/admin/{which}", response_class=HTMLResponse)
async def queue_page(request: Request, which: str, operator: CurrentOperator) -> HTMLResponse:
    if which not in QUEUES:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return admin_page(request, "admin/queue.html", **await queue(request, which))


@router.get("/admin/fragments/{which}", response_class=HTMLResponse)
async def queue_live(request: Request, which: str, operator: CurrentOperator) -> HTMLResponse:
    if which not in QUEUES:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return admin_page(request, "admin/queue_rows.html", **await queue(request, which))


@router.post("/admin/{which}/review")
async def review(request: Request, which: str, changes: Changes, id: str = Form(""), decision: str = Form(""),
                 note: str = Form("")) -> Response:
    if which not in QUEUES or decision not in ("approve", "decline") or not id.isdigit() or len(id) > 18:
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    run = changes.review_submission if which == "quests" else changes.review_purchase
    try:
        await run(int(id), decision == "approve", note.strip() or None)
    except XPError as exc:  # reviewed already (by another operator a moment ago), a long note
        raise PageError(400 if exc.sqlstate != "XP009" else 409, "admin_refused", "admin_refused_text",
                        detail=exc.message) from None
    request.session["admin_flash"] = ["admin_reviewed_" + decision, {"id": id}]
    return RedirectResponse(f"/admin/{which}", status_code=303)
