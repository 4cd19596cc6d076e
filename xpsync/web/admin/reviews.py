"""/admin/quests and /admin/shop: the review queues, live. Quest submissions wait for an operator to
approve (the quest pays, once per family and window) or decline them with a note; purchases of items
a person must hand over wait to be approved or declined (refunded). The member hears of it on the
platform they came from. A queue may be narrowed to one quest or item; every waiting one the filter
matches may then be approved or declined at once with one note (the count shown first: exactly
those, never one that arrived after; one reviewed meanwhile is skipped and counted). A Discord
role's purchase says whether the role was given on Discord yet. What the quests and items are is
edited on /admin/tables."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page
from .void import moment

router = APIRouter(include_in_schema=False)

QUEUES = ("quests", "shop")
STATES = ("pending", "approved", "declined")
# what narrows a queue: its query parameter, and the operator table whose codes it takes
NARROWED_BY = {"quests": ("quest", "quests"), "shop": ("item", "shop_items")}


def state_of(request: Request) -> str | None:
    state = request.query_params.get("state") or "pending"
    if state not in (*STATES, "all"):
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    return None if state == "all" else state


def what_of(raw: str | None) -> str | None:
    """The quest or item a queue is narrowed to (a code as the tables allow it); None for any."""
    what = (raw or "").strip() or None
    if what is not None and (len(what) > 40 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in what)):
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    return what


def back_to(which: str, what: str | None) -> str:
    return f"/admin/{which}" + (f"?{urlencode({NARROWED_BY[which][0]: what})}" if what else "")


async def queue(request: Request, which: str) -> dict[str, Any]:
    state = state_of(request)
    param, table = NARROWED_BY[which]
    what = what_of(request.query_params.get(param))
    panel = reads(request)
    rows = await (panel.submissions(state, what) if which == "quests" else panel.purchases(state, what))
    return {"which": which, "rows": rows, "state": state or "all", "states": (*STATES, "all"),
            "param": param, "what": what, "choices": await panel.rows(table),
            "waiting": await panel.review_count(which, what), "flash_text": request.session.pop("admin_flash", None)}


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


@router.post("/admin/{which}/review-all")
async def review_all(request: Request, which: str, changes: Changes, decision: str = Form(""),
                     note: str = Form(""), what: str = Form(""), upto: str = Form(""),
                     seen_at: str = Form("")) -> Response:
    """Every waiting one the filter matched when the count was shown (up to `upto`, seen at `seen_at`)."""
    if which not in QUEUES or decision not in ("approve", "decline") or not upto.isdigit() or len(upto) > 18:
        raise PageError(400, "web_bad_request", "admin_bad_filter")
    narrowed = what_of(what)
    try:
        done = await changes.review_all(which, narrowed, int(upto), moment(seen_at, "seen_at"), decision == "approve",
                                        note.strip() or None)
    except XPError as exc:  # a long note
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    request.session["admin_flash"] = ["admin_reviewed_all_" + decision,
                                      {"n": str(done["reviewed"]), "skipped": str(done["skipped"])}]
    return RedirectResponse(back_to(which, narrowed), status_code=303)
