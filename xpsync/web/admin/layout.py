"""The panel's frame: its sections (the navigation every page shows) and how a page is rendered.

A new page group is a module of its own in this package with a `router`, listed in ROUTERS
(`__init__.py`) and, when it is a section of its own, in SECTIONS. A part of a page that follows the
community live is an element with `data-live="topic …"` (optionally `data-live-every="seconds"`),
`hx-get` its fragment and `hx-trigger="xp-refresh"`: static/admin.js re-fetches it when the event
stream says one of its topics moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..render import page
from ..security import csrf_token


@dataclass(frozen=True)
class Section:
    path: str
    label: str  # a key of the catalogue


SECTIONS = (
    Section("/admin", "admin_overview"),
    Section("/admin/people", "admin_people"),
    Section("/admin/deliveries", "admin_deliveries"),
    Section("/admin/settings", "admin_settings"),
    Section("/admin/tables", "admin_tables"),
    Section("/admin/ranks", "admin_thresholds"),
    Section("/admin/reconcile", "admin_reconcile"),
    Section("/admin/void", "admin_void"),
    Section("/admin/quests", "admin_quests"),
    Section("/admin/shop", "admin_shop"),
    Section("/admin/texts", "admin_texts"),
    Section("/admin/audit", "admin_audit"),
)


def current_section(path: str) -> str:
    best = "/admin"
    for section in SECTIONS:
        if path == section.path or path.startswith(section.path + "/"):
            best = max(best, section.path, key=len)
    return best


def admin_page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    operator = getattr(request.state, "operator", None)
    read_only = request.app.state.admin_pool is None
    response = page(request, template, status=status, operator=operator, sections=SECTIONS,
                    current=current_section(request.url.path), csrf=csrf_token(request.session),
                    read_only=read_only, can_change=operator is not None and operator.admin and not read_only,
                    **context)
    response.headers["Cache-Control"] = "no-store"
    return response
