"""/admin: the community at a glance, live: people, ledger rows a minute (a chart), deliveries by
target and status, the oldest pending, failures by reason, paused guilds, the NOTIFY queue, the
running listeners and bots (a stale heartbeat flagged), and what waits for an operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ...vocabulary import DELIVERY_STATUSES
from .access import CurrentOperator, reads
from .layout import admin_page

router = APIRouter(include_in_schema=False)

CHART_WIDTH, CHART_HEIGHT = 600, 120


@dataclass(frozen=True)
class Queue:
    """Something that waits for an operator, counted from the overview, with the page that handles it."""

    label: str  # a key of the catalogue
    path: str
    count: str  # a key of xp.admin_overview() holding the count, or a deliveries status


# Review queues of later pages (quest submissions, purchases to approve) are added here.
QUEUES = (
    Queue("admin_queue_failed", "/admin/deliveries?status=failed", "failed"),
    Queue("admin_queue_dead", "/admin/deliveries?status=dead", "dead"),
)


def chart(minutes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of an inline SVG (attributes only: the CSP allows no inline style)."""
    top = max((m["rows"] for m in minutes), default=0) or 1
    width = CHART_WIDTH / max(len(minutes), 1)
    bars = []
    for i, m in enumerate(minutes):
        height = round(CHART_HEIGHT * m["rows"] / top, 1)
        bars.append({"x": round(i * width, 1), "y": round(CHART_HEIGHT - height, 1),
                     "width": round(max(width - 1, 1), 1), "height": height, "minute": m["minute"][11:16],
                     "rows": m["rows"]})
    return bars


def waiting(stats: dict[str, Any]) -> list[dict[str, Any]]:
    statuses: dict[str, int] = {}
    for by_status in stats.get("deliveries", {}).values():
        for status, n in by_status.items():
            statuses[status] = statuses.get(status, 0) + n
    counted = [{"queue": q, "n": statuses.get(q.count, stats.get(q.count, 0))} for q in QUEUES]
    return [c for c in counted if c["n"]]


async def context(request: Request) -> dict[str, Any]:
    stats = await reads(request).overview()
    return {"stats": stats, "statuses": DELIVERY_STATUSES, "bars": chart(stats["awards_per_minute"]),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT, "waiting": waiting(stats),
            "stale": [p for p in stats["processes"] if p["state"] == "stale"]}


@router.get("/admin", response_class=HTMLResponse)
async def overview(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/overview.html", **await context(request))


@router.get("/admin/fragments/overview", response_class=HTMLResponse)
async def overview_live(request: Request, operator: CurrentOperator) -> HTMLResponse:
    return admin_page(request, "admin/overview_live.html", **await context(request))
