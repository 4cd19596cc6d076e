"""/admin/ranks: rank thresholds, changed only after a what-if preview computed on the real ledger
(the change run and rolled back: people per rank before and after, rank changes, rewards, unlocks,
Discord role changes and Telegram notices); applying does exactly what the preview said, or, when
the community moved meanwhile, changes nothing and shows the new preview."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ...errors import StalePreview, XPError
from ..deps import PageError
from .access import Changes, CheckedOperator, CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)


def proposed(form: dict[str, str], ladder: list[dict[str, Any]]) -> dict[str, int]:
    """The thresholds the form changes (`min_xp.<rank id>` fields), as xp.preview_thresholds takes them."""
    change = {}
    for rank in ladder:
        raw = (form.get(f"min_xp.{rank['id']}") or "").strip()
        if raw == "":
            continue
        if not raw.isdigit() or len(raw) > 15:
            raise PageError(400, "admin_refused", "admin_bad_threshold", rank=rank["name"])
        if int(raw) != rank["min_xp"]:
            change[str(rank["id"])] = int(raw)
    if not change:
        raise PageError(400, "admin_refused", "admin_no_threshold_change")
    return change


async def shown(request: Request, preview: dict[str, Any] | None = None, change: dict[str, int] | None = None,
                **extra: Any) -> HTMLResponse:
    ladder = await reads(request).ladder()
    return admin_page(request, "admin/thresholds.html", ladder=ladder, preview=preview, change=change or {},
                      change_json=json.dumps(change or {}),
                      effects_json=json.dumps(preview["effects"]) if preview else "", **extra)


@router.get("/admin/ranks", response_class=HTMLResponse)
async def thresholds(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return await shown(request)


@router.post("/admin/ranks/preview", response_class=HTMLResponse)
async def preview(request: Request, operator: CheckedOperator) -> HTMLResponse:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    change = proposed(form, await reads(request).ladder())
    try:
        found = await reads(request).preview_thresholds(change)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    return await shown(request, found, change)


def _decoded(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise PageError(400, "admin_refused", "admin_preview_first", what=what)
    return value


@router.post("/admin/ranks/apply", response_class=HTMLResponse)
async def apply(request: Request, changes: Changes, change: str = Form(""), effects: str = Form("")) -> HTMLResponse:
    thresholds, expected = _decoded(change, "thresholds"), _decoded(effects, "effects")
    try:
        result = await changes.apply_thresholds(thresholds, expected)
    except StalePreview:
        # the community moved since the preview: nothing changed; here is what applying would do now
        return await shown(request, await reads(request).preview_thresholds(thresholds), thresholds, stale=True)
    except XPError as exc:
        raise PageError(400, "admin_refused", "admin_refused_text", detail=exc.message) from None
    return await shown(request, applied=result, applied_change=thresholds)
