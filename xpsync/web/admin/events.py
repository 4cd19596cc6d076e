"""GET /admin/events: the server-sent event stream that keeps every open admin page live.

Each event is named for a topic that moved (`ledger`, `events`, `deliveries`, `audit`, `config`,
`beats`, and whatever `xp.admin_cursor()` adds), its data says from where to where (for `audit`,
the entries themselves), and its id is the cursor after it. A browser that reconnects sends the
last id it got (Last-Event-ID) and is told at once what moved since, from the database. A comment
every KEEPALIVE seconds keeps proxies from closing a quiet stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import StreamingResponse

from .access import CurrentOperator, reads
from .pulse import Cursor, Pulse, cursor_id, moved, parse_cursor_id

router = APIRouter(include_in_schema=False)

KEEPALIVE = 15.0
RETRY_MS = 2000
AUDIT_ENTRIES = 20  # the newest entries an `audit` event carries


def frame(name: str, cursor: Cursor, data: Any) -> str:
    return f"event: {name}\nid: {cursor_id(cursor)}\ndata: {json.dumps(data, default=str)}\n\n"


async def frames(request: Request, before: Cursor, after: Cursor) -> AsyncIterator[str]:
    for topic in moved(before, after):
        data: dict[str, Any] = {"from": before.get(topic), "to": after[topic]}
        if topic == "audit":
            seen = before.get(topic) or 0
            newest = await reads(request).audit(None, max(1, min(AUDIT_ENTRIES, after[topic] - seen)))
            data["entries"] = [{k: e[k] for k in ("id", "at", "actor", "action", "target")}
                               for e in newest if e["id"] > seen]
        yield frame(topic, after, data)


async def stream(request: Request, pulse: Pulse, since: Cursor | None) -> AsyncIterator[str]:
    keepalive = request.app.state.admin_keepalive
    async with pulse.subscription() as subscription:
        now = await reads(request).cursor()
        yield f"retry: {RETRY_MS}\n\n"
        if since is None:
            yield frame("hello", now, now)
        else:  # a reconnect: what moved while it was away
            async for chunk in frames(request, since, now):
                yield chunk
        last = now
        while not pulse.closing.is_set():
            newer = await subscription.next(keepalive)
            if newer is None:
                if not pulse.closing.is_set():
                    yield ": keep-alive\n\n"
                continue
            # positions only grow; one read by the pulse may predate this stream's own first read
            newer = {topic: max(value, last.get(topic, value)) for topic, value in newer.items()}
            async for chunk in frames(request, last, newer):
                yield chunk
            last = newer


@router.get("/admin/events")
async def events(request: Request, operator: CurrentOperator) -> StreamingResponse:
    since = parse_cursor_id(request.headers.get("last-event-id"))
    return StreamingResponse(stream(request, request.app.state.pulse, since), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
