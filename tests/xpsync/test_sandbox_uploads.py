"""The sandbox takes uploads as the platforms do: Telegram's sendPhoto and Discord's interaction
answers with attachments, both multipart, and refuses a request without the file it names."""

from __future__ import annotations

import json

import httpx2 as httpx
import pytest

from xpsync.sandbox.server import SandboxThread

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


@pytest.fixture
def box():
    with SandboxThread() as sandbox:
        yield sandbox


def test_send_photo_keeps_the_image_and_its_caption(box):
    box.telegram.open_chat("5")  # the person pressed Start: the bot may write to them
    url = f"{box.telegram_api_base}/bot{box.telegram.token}/sendPhoto"
    sent = httpx.post(url, data={"chat_id": "5", "caption": "hi", "photo": "attach://card"},
                      files={"card": ("card.png", PNG, "image/png")})
    assert sent.status_code == 200 and sent.json()["result"]["caption"] == "hi"
    direct = httpx.post(url, data={"chat_id": "5"}, files={"photo": ("card.png", PNG, "image/png")})
    assert direct.status_code == 200
    assert [(m.text, m.photo) for m in box.telegram.sent_to("5")] == [("hi", PNG), ("", PNG)]
    missing = httpx.post(url, data={"chat_id": "5", "caption": "no photo"})
    assert missing.status_code == 400 and "no photo" in missing.json()["description"]


def test_an_interaction_answer_with_an_attachment(box):
    def url() -> str:  # a new interaction, within its 3 seconds
        return f"{box.discord_api_base}/interactions/{box.discord.interaction_id()}/tok/callback"

    payload = {"type": 4, "data": {"content": "x", "attachments": [{"id": 0, "filename": "card.png"}]}}
    ok = httpx.post(url(), data={"payload_json": json.dumps(payload)},
                    files={"files[0]": ("card.png", PNG, "image/png")})
    assert ok.status_code == 200
    reply = box.discord.interaction_replies[-1]
    assert reply.data["content"] == "x" and [(f.filename, f.data) for f in reply.files] == [("card.png", PNG)]
    unnamed = httpx.post(url(), data={"payload_json": json.dumps({"type": 4, "data": {}})},
                         files={"files[0]": ("other.png", PNG, "image/png")})
    assert unnamed.status_code == 400
    assert httpx.post(url(), files={"files[0]": ("card.png", PNG, "image/png")}).status_code == 400
