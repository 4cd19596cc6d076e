"""The fake Telegram Bot API: `{base}/bot{token}/{method}` for the methods the bot and the listener use.

sendMessage and sendPhoto (an uploaded photo, multipart) refuse what Telegram refuses (an unknown chat: 400; a chat that
blocked the bot: 403); every message sent is kept in TelegramState.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .faults import Fault
from .state import TelegramState, Upload
from .traffic import Traffic, form_of, reply

PREFIX = "/telegram"
OK_TRUE = {"ok": True, "result": True}


class TelegramApi:
    def __init__(self, state: TelegramState, traffic: Traffic) -> None:
        self.state = state
        self.traffic = traffic

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", PREFIX + "/bot{token}/{method}", self.call)

    async def call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            return reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        if method == "getMe":
            return reply(200, {"ok": True, "result": {
                "id": 42, "is_bot": True, "first_name": "xpsync", "username": "xpsync_sandbox_bot",
            }})
        if method in ("answerCallbackQuery", "deleteWebhook", "setMyCommands"):
            return reply(200, OK_TRUE)
        if method == "editMessageReplyMarkup":
            form = await form_of(request)
            self.state.edit(str(form.get("chat_id", "")), int(form.get("message_id", 0)),
                            _markup(form.get("reply_markup")))
            return reply(200, OK_TRUE)
        if method == "getUpdates":
            await asyncio.sleep(0.5)  # a short long-poll with nothing new
            return reply(200, {"ok": True, "result": []})
        if method not in ("sendMessage", "sendPhoto"):
            return reply(404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
        return await self.send_message(request, photo=method == "sendPhoto")

    async def send_message(self, request: web.Request, *, photo: bool = False) -> web.Response:
        """sendMessage, and sendPhoto with the photo uploaded (multipart), as a bot sends a new image."""
        if (faulty := await self.traffic.fault("telegram", request, _fault)) is not None:
            return faulty
        form = await form_of(request)
        chat_id, text = str(form.get("chat_id", "")), str(form.get("caption" if photo else "text", ""))
        image = form.get("photo")
        if isinstance(image, str) and image.startswith("attach://"):  # the file in a part of its own
            image = form.get(image[len("attach://"):])
        if photo and not (isinstance(image, Upload) and image.data):
            self.traffic.record("telegram", request, 400)
            return reply(400, {"ok": False, "error_code": 400,
                               "description": "Bad Request: there is no photo in the request"})
        if not chat_id.lstrip("-").isdigit():
            self.traffic.record("telegram", request, 400)
            return reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        if chat_id in self.state.blocked:
            self.traffic.record("telegram", request, 403)
            return reply(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        sent = self.state.record(chat_id, text, _markup(form.get("reply_markup")),
                                 image.data if photo and isinstance(image, Upload) else None)
        self.traffic.record("telegram", request, 200)
        result: dict[str, Any] = {"message_id": sent.message_id, "date": int(sent.at),
                                  "chat": {"id": int(chat_id), "type": "private"}}
        if photo:
            result.update(caption=text, photo=[{"file_id": f"photo{sent.message_id}",
                                                "file_unique_id": f"p{sent.message_id}", "width": 800,
                                                "height": 240, "file_size": len(sent.photo or b"")}])
        else:
            result["text"] = text
        return reply(200, {"ok": True, "result": result})


def _markup(value: Any) -> Any:
    """An inline keyboard as sent: JSON text in a form, an object in a JSON body."""
    return json.loads(value) if isinstance(value, str) else value


def _fault(fault: Fault) -> web.Response:
    if fault.kind == "429":
        after = max(1, round(fault.retry_after))
        return reply(429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {after}",
                           "parameters": {"retry_after": after}})
    if fault.kind == "403":
        return reply(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    return reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
