"""/healthz: 200 while the database answers, 503 within 5 seconds when it does not."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from starlette.responses import JSONResponse

from .deps import Calls

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

TIMEOUT_SECONDS = 4.0


@router.get("/healthz")
async def healthz(calls: Calls) -> JSONResponse:
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await calls.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to answer is "not healthy"
        log.warning("health check: the database did not answer: %s", type(exc).__name__)
        return JSONResponse({"ok": False, "error": "the database did not answer"}, status_code=503)
    return JSONResponse({"ok": True})
