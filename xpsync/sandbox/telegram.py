"""The fake Telegram Bot API: `{base}/bot{token}/{method}` for the methods the bot and the listener use.

sendMessage and sendPhoto (an uploaded photo, multipart) refuse what Telegram
refuses (the knobs are in limits.py):

- a private chat (positive id) whose person never pressed Start: 403
  "Forbidden: bot can't initiate conversation with a user";
- a person who blocked the bot, or deleted their account: 403 "Forbidden: bot
  was blocked by the user", "Forbidden: user is deactivated"; a group that
  removed the bot: 403 "Forbidden: bot was kicked from the group chat";
- an id that is no chat at all: 400 "Bad Request: chat not found"; a
  sendPhoto without its photo: 400;
- more than 30 messages a second in all, one a second to one chat or 20 a
  minute to one group (with Telegram's tolerance of short bursts): 429 with
  `parameters.retry_after` in whole seconds.

Every message sent is kept in TelegramState; every answer is in the traffic record.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from .faults import Fault
from .limits import Limits, TokenBuckets, whole_seconds
from .state import TelegramState, Upload
from .traffic import Traffic, form_of, html, html_page, reply

PREFIX = "/telegram"
OK_TRUE = {"ok": True, "result": True}


def refusal(status: int, description: str, **extra: Any) -> web.Response:
    return reply(status, {"ok": False, "error_code": status, "description": description, **extra})


class TelegramApi:
    def __init__(self, state: TelegramState, traffic: Traffic, limits: Limits) -> None:
        self.state = state
        self.traffic = traffic
        self.limits = limits
        self.everything = TokenBuckets(limits.telegram_global) if limits.telegram_global else None
        self.private = TokenBuckets(limits.telegram_private) if limits.telegram_private else None
        self.group = TokenBuckets(limits.telegram_group) if limits.telegram_group else None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", PREFIX + "/bot{token}/{method}", self.call)

    async def call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            self.traffic.record("telegram", request, 401)
            return refusal(401, "Unauthorized")
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
            return refusal(404, "Not Found: method not found")
        response = await self.send_message(request, photo=method == "sendPhoto")
        self.traffic.record("telegram", request, response.status)
        return response

    async def send_message(self, request: web.Request, *, photo: bool = False) -> web.Response:
        """sendMessage, and sendPhoto with the photo uploaded (multipart), as a bot sends a new image."""
        if (faulty := await self.traffic.fault("telegram", request, _fault, record=False)) is not None:
            return faulty
        form = await form_of(request)
        chat_id, text = str(form.get("chat_id", "")), str(form.get("caption" if photo else "text", ""))
        image = form.get("photo")
        if isinstance(image, str) and image.startswith("attach://"):  # the file in a part of its own
            image = form.get(image[len("attach://"):])
        if photo and not (isinstance(image, Upload) and image.data):
            return refusal(400, "Bad Request: there is no photo in the request")
        if not chat_id.lstrip("-").isdigit():
            return refusal(400, "Bad Request: chat not found")
        group = chat_id.startswith("-")
        with self.state.lock:
            if chat_id in self.state.blocked:
                return refusal(403, "Forbidden: bot was blocked by the user")
            if chat_id in self.state.deactivated:
                return refusal(403, "Forbidden: user is deactivated")
            if chat_id in self.state.kicked:
                return refusal(403, "Forbidden: bot was kicked from the group chat")
            if not group and self.limits.telegram_requires_start and chat_id not in self.state.opened:
                return refusal(403, "Forbidden: bot can't initiate conversation with a user")
        if (wait := self._wait(chat_id, group)) > 0:
            after = whole_seconds(wait)
            return refusal(429, f"Too Many Requests: retry after {after}", parameters={"retry_after": after})
        sent = self.state.record(chat_id, text, _markup(form.get("reply_markup")),
                                 image.data if photo and isinstance(image, Upload) else None)
        result: dict[str, Any] = {"message_id": sent.message_id, "date": int(sent.at),
                                  "chat": {"id": int(chat_id), "type": "supergroup" if group else "private"}}
        if photo:
            result.update(caption=text, photo=[{"file_id": f"photo{sent.message_id}",
                                                "file_unique_id": f"p{sent.message_id}", "width": 800,
                                                "height": 240, "file_size": len(sent.photo or b"")}])
        else:
            result["text"] = text
        return reply(200, {"ok": True, "result": result})

    def _wait(self, chat_id: str, group: bool) -> float:
        """0 and the message's tokens taken, or how long until it may be sent."""
        now = time.time()
        limits = [(b, key) for b, key in ((self.everything, "bot"), (self.group if group else self.private, chat_id))
                  if b is not None]
        wait = max((bucket.wait(key, now) for bucket, key in limits), default=0.0)
        if wait == 0:
            for bucket, key in limits:
                bucket.take(key, now)
        return wait


def _markup(value: Any) -> Any:
    """An inline keyboard as sent: JSON text in a form, an object in a JSON body."""
    return json.loads(value) if isinstance(value, str) else value


def _fault(fault: Fault) -> web.Response:
    if fault.kind in ("429", "429-global"):
        after = whole_seconds(fault.retry_after)
        return refusal(429, f"Too Many Requests: retry after {after}", parameters={"retry_after": after})
    if fault.kind == "403":
        return refusal(403, "Forbidden: bot was blocked by the user")
    if fault.kind in ("5xx-html", "429-html"):
        return html(502, html_page(502, "Bad Gateway", "nginx"))
    return refusal(502, "Bad Gateway")
