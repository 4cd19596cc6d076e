"""/admin/people: search by name or platform id with live balances; a person's page (ledger paged,
accounts, achievements, the Discord roles they hold by plan per guild, deliveries, all live) and what
an admin may do to them: adjust XP or coins with a reason (capped by admin.cap), resync their Discord
roles, unlink an account, forget them (after a confirmation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import XPError
from ..board import page_number
from ..deps import PageError
from .access import Changes, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def person_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise PageError(404, "web_not_found", "web_not_found_text")
    return int(raw)


def cursor_param(raw: str | None) -> int | None:
    """A keyset position from the query (`before=ID`); anything else is a 400 page."""
    return None if raw in (None, "") else page_number(raw)


async def found(request: Request) -> dict[str, Any]:
    q = (request.query_params.get("q") or "").strip()[:100]
    return {"q": q, "people": await reads(request).people(q or None, PER_PAGE), "ranks": await ranks_by_id(request)}


async def ranks_by_id(request: Request) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in await reads(request).ladder()}


@router.get("/admin/people", response_class=HTMLResponse)
async def people(request: Request, operator: CurrentOperator) -> HTMLResponse:
    template = "admin/people_rows.html" if request.headers.get("hx-request") == "true" else "admin/people.html"
    return admin_page(request, template, **await found(request))


async def person_context(request: Request, uid: int) -> dict[str, Any]:
    person = await reads(request).person(uid)
    if person is None:
        raise PageError(404, "web_not_found", "web_not_found_text")
    before = cursor_param(request.query_params.get("before"))
    ledger = await reads(request).ledger(uid, before, PER_PAGE + 1)
    return {"person": person, "ledger": ledger[:PER_PAGE], "more": len(ledger) > PER_PAGE, "before": before,
            "roles": await reads(request).person_roles(uid), "flash_text": request.session.pop("admin_flash", None)}


@router.get("/admin/people/{uid}", response_class=HTMLResponse)
async def person(request: Request, uid: str, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/person.html", **await person_context(request, person_id(uid)))


@router.get("/admin/fragments/people/{uid}/{part}", response_class=HTMLResponse)
async def person_live(request: Request, uid: str, part: str, operator: CurrentOperator) -> HTMLResponse:
    if part not in ("summary", "ledger", "deliveries", "roles"):
        raise PageError(404, "web_not_found", "web_not_found_text")
    return admin_page(request, f"admin/person_{part}.html", **await person_context(request, person_id(uid)))


def done(request: Request, uid: int, text: str, **values: Any) -> Response:
    request.session["admin_flash"] = [text, {k: str(v) for k, v in values.items()}]
    return RedirectResponse(f"/admin/people/{uid}", status_code=303)


def refused(exc: XPError) -> PageError:
    return PageError(400, "admin_refused", "admin_refused_text", detail=exc.message)


@router.post("/admin/people/{uid}/adjust")
async def adjust(request: Request, uid: str, changes: Changes, kind: str = Form(""), amount: str = Form(""),
                 reason: str = Form("")) -> Response:
    target = person_id(uid)
    if kind not in ("xp", "coins") or not amount.strip().lstrip("-").isdigit() or len(amount) > 12:
        raise PageError(400, "admin_refused", "admin_bad_adjust")
    try:
        result = await changes.adjust(target, kind, int(amount), reason.strip())
    except XPError as exc:
        raise refused(exc) from None
    return done(request, target, "admin_adjusted", amount=amount, kind=kind, xp=result["xp"], coins=result["coins"])


@router.post("/admin/people/{uid}/resync")
async def resync(request: Request, uid: str, changes: Changes) -> Response:
    target = person_id(uid)
    queued = await changes.resync_roles(target)
    return done(request, target, "admin_resynced", n=queued)


@router.post("/admin/people/{uid}/unlink")
async def unlink(request: Request, uid: str, changes: Changes, platform: str = Form(""),
                 external_id: str = Form("")) -> Response:
    target = person_id(uid)
    person = await reads(request).person(target)
    if person is None or not any(a["platform"] == platform and a["external_id"] == external_id
                                 for a in person["accounts"]):
        raise PageError(400, "admin_refused", "admin_not_their_account")
    try:
        new = await changes.unlink(platform, external_id)
    except XPError as exc:
        raise refused(exc) from None
    return done(request, target, "admin_unlinked", account=f"{platform}:{external_id}", new=new)


@router.get("/admin/people/{uid}/forget", response_class=HTMLResponse)
async def forget_page(request: Request, uid: str, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/forget.html", **await person_context(request, person_id(uid)))


@router.post("/admin/people/{uid}/forget")
async def forget(request: Request, uid: str, changes: Changes, confirm: str = Form("")) -> Response:
    target = person_id(uid)
    if confirm.strip() != str(target):
        raise PageError(400, "admin_refused", "admin_forget_unconfirmed", uid=target)
    try:
        await changes.forget(target)
    except XPError as exc:
        raise refused(exc) from None
    return done(request, target, "admin_forgot_done")
