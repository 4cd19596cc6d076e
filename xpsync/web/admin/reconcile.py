"""/admin/reconcile: xp.reconcile_all's dry run listed (what drifted and how it would be fixed), then
applied by an admin; both through the admin's login, the only one reconcile is granted to."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..deps import PageError
from .access import Changes, CheckedOperator, CurrentOperator, admin_changes_for
from .layout import admin_page

router = APIRouter(include_in_schema=False)


@router.get("/admin/reconcile", response_class=HTMLResponse)
async def reconcile_page(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/reconcile.html", findings=None)


@router.post("/admin/reconcile/dry-run", response_class=HTMLResponse)
async def dry_run(request: Request, operator: CheckedOperator) -> HTMLResponse:
    changes = admin_changes_for(request, operator)
    if changes is None:  # reconcile is the admin login's alone, even its dry run
        raise PageError(403, "admin_refused", "admin_read_only_text")
    return admin_page(request, "admin/reconcile.html", findings=await changes.reconcile(dry_run=True), fixed=False)


@router.post("/admin/reconcile/apply", response_class=HTMLResponse)
async def apply(request: Request, changes: Changes) -> HTMLResponse:
    return admin_page(request, "admin/reconcile.html", findings=await changes.reconcile(dry_run=False), fixed=True)
