"""What both fake platforms share: JSON answers, the record of every call, and fault injection."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .faults import Fault, Faults
from .state import Call, Upload


def reply(status: int, data: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer whose Content-Type is exactly `application/json`, as discord.py requires."""
    if data is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def html(status: int, body: str, headers: dict[str, str] | None = None) -> web.Response:
    """An HTML answer, as a proxy or Cloudflare sends in front of an API: no JSON at all."""
    return web.Response(status=status, text=body, content_type="text/html", headers=headers)


def html_page(status: int, title: str, server: str) -> str:
    return (f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {title}</h1></center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n")


async def form_of(request: web.Request) -> dict[str, Any]:
    """The parameters of a call, sent as a form, as multipart (files as Upload) or as JSON."""
    if request.content_type == "application/json":
        return dict(await request.json())
    form: dict[str, Any] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            form[name] = Upload(value.filename, value.content_type, value.file.read())
        else:
            form[name] = value
    return form


async def message_payload(request: web.Request) -> tuple[dict[str, Any] | None, tuple[Upload, ...]]:
    """A Discord message body and its attachments: JSON, or multipart (`payload_json` and `files[n]`) as
    Discord takes a message with files. (None, ()) for a multipart body without a `payload_json`."""
    if request.content_type != "multipart/form-data":
        return dict(await request.json()), ()
    form = await form_of(request)
    if not isinstance(form.get("payload_json"), str):
        return None, ()
    files = tuple(v for k, v in sorted(form.items()) if k.startswith("files[") and isinstance(v, Upload))
    return json.loads(form["payload_json"]), files


class Traffic:
    """Every call the fake platforms answered (thread-safe), and the faults they are to suffer."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, platform: str, request: web.Request, status: int) -> None:
        with self._lock:
            self.calls.append(Call(time.time(), platform, request.method, request.path, status))

    def calls_to(self, platform: str, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.platform == platform and (method is None or c.method == method)]

    async def fault(self, platform: str, request: web.Request, respond: Callable[[Fault], web.Response], *,
                    record: bool = True) -> web.Response | None:
        """The fault this request suffers, answered the platform's way (`respond`, recorded unless the
        caller records every answer itself); None: answer normally (after a delay for a slow one)."""
        fault = self.faults.next(platform)
        if fault is None:
            return None
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        response = respond(fault)
        if record:
            self.record(platform, request, response.status)
        return response
