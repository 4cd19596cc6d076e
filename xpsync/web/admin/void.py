"""/admin/void: an abuse wave undone. Choose ledger rows by person, source, reason and time window,
preview them (the rows, what each person holds now and after, who would go below zero, and what the
reversal would do to ranks, roles and notices), then reverse exactly those rows in one audited
change: one reversing ledger row each, through the ledger's own write path (xp.void_ledger)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ...errors import StalePreview, XPError
from ...vocabulary import SOURCES
from ..deps import PageError
from .access import Changes, CheckedOperator, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)

# what a void may reverse: never a void (undo nothing twice) or an import (import again instead)
VOIDABLE = tuple(s for s in SOURCES if s not in ("void", "import"))


def moment(raw: str, what: str) -> datetime:
    """A datetime-local field (UTC) or an ISO moment."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise PageError(400, "admin_refused", "admin_bad_field", field=what, problem="is not a date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def chosen(form: dict[str, str]) -> dict[str, Any]:
    uid = form.get("user_id", "").strip().lstrip("#")
    if uid and (not uid.isdigit() or len(uid) > 18):
        raise PageError(400, "admin_refused", "admin_bad_field", field="user_id", problem="is not a person id")
    source = form.get("source") or None
    if source is not None and source not in VOIDABLE:
        raise PageError(400, "admin_refused", "admin_bad_field", field="source", problem="is not a source")
    return {"since": moment(form.get("since", ""), "since"), "until": moment(form.get("until", ""), "until"),
            "user_id": int(uid) if uid else None, "source": source, "reason": form.get("reason", "").strip() or None}


def fields(filters: dict[str, Any]) -> dict[str, str]:
    """The filter as the form shows it again."""
    return {"since": filters["since"].strftime("%Y-%m-%dT%H:%M"), "until": filters["until"].strftime("%Y-%m-%dT%H:%M"),
            "user_id": str(filters["user_id"] or ""), "source": filters["source"] or "",
            "reason": filters["reason"] or ""}


def shown(request: Request, filters: dict[str, Any] | None = None, **context: Any) -> HTMLResponse:
    if filters is None:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        filters = {"since": now - timedelta(hours=1), "until": now + timedelta(minutes=1), "user_id": None,
                   "source": None, "reason": None}
    return admin_page(request, "admin/void.html", filters=fields(filters), sources=VOIDABLE, **context)


@router.get("/admin/void", response_class=HTMLResponse)
async def void_page(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return shown(request)


async def previewed(request: Request, filters: dict[str, Any]) -> dict[str, Any]:
    try:
        return await reads(request).void_preview(filters["since"], filters["until"], filters["user_id"],
                                                 filters["source"], filters["reason"])
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None


@router.post("/admin/void/preview", response_class=HTMLResponse)
async def preview(request: Request, operator: CheckedOperator) -> HTMLResponse:
    filters = chosen({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    return shown(request, filters, preview=await previewed(request, filters))


@router.post("/admin/void/apply", response_class=HTMLResponse)
async def apply(request: Request, changes: Changes, upto: str = Form(""), digest: str = Form(""),
                note: str = Form("")) -> HTMLResponse:
    filters = chosen({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    if not upto.isdigit() or len(upto) > 19 or not digest:
        raise PageError(400, "admin_refused", "admin_preview_first", what="rows")
    try:
        result = await changes.void(filters["since"], filters["until"], filters["user_id"], filters["source"],
                                    filters["reason"], int(upto), digest, note.strip())
    except StalePreview:
        return shown(request, filters, preview=await previewed(request, filters), stale=True)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    return shown(request, filters, voided=result)
