"""Interaction follow-ups: the messages a bot sends through the interaction's webhook after deferring.

`POST /webhooks/{application_id}/{token}` as Discord answers it (the created
message), JSON or multipart with files, recorded for the tests to read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .discord import INVALID_FORM, UNNAMED_ATTACHMENT, unnamed
from .state import Upload
from .traffic import Traffic, message_payload, reply

PREFIX = "/discord/api/v10"


@dataclass(frozen=True)
class FollowUp:
    at: float
    token: str
    data: dict[str, Any]
    files: tuple[Upload, ...] = ()  # attachments (multipart: payload_json and files[n])


@dataclass
class FollowUps:
    traffic: Traffic
    sent: list[FollowUp] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: int = 5_000_000_000_000_000_000

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PREFIX + "/webhooks/{application}/{token}", self.follow_up)

    def to(self, token: str) -> list[FollowUp]:
        with self.lock:
            return [f for f in self.sent if f.token == token]

    async def follow_up(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body, files = await message_payload(request)
        if body is None or unnamed(files, body.get("attachments", [])):
            self.traffic.record("discord", request, 400)
            return reply(400, INVALID_FORM if body is None else UNNAMED_ATTACHMENT)
        with self.lock:
            self._ids += 1
            message_id = str(self._ids)
            self.sent.append(FollowUp(time.time(), token, body, files))
        self.traffic.record("discord", request, 200)
        return reply(200, {
            "id": message_id, "type": 0, "channel_id": "88", "content": body.get("content") or "",
            "author": {"id": request.match_info["application"], "username": "xpsync-sandbox", "discriminator": "0",
                       "global_name": None, "avatar": None, "bot": True},
            "timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": body.get("embeds") or [], "pinned": False, "flags": body.get("flags") or 0,
            "webhook_id": request.match_info["application"],
        })
