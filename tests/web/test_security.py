"""Security properties of the web: headers on every answer, CSRF on every form, the session signed."""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.helpers import call
from tests.web.conftest import sign_in_telegram

PAGES = ["/", "/ranks", "/sign-in", "/u/1", "/u/1/card.png", "/u/nope", "/api/v1/leaderboard", "/api/docs",
         "/api/openapi.json", "/healthz", "/static/htmx.min.js", "/assets/ranks.css"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, conn, path):
    call(conn, "award_xp", "discord", "1", 50, "r", "k1")
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'unsafe-eval'" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_pages_load_nothing_from_elsewhere(client, conn):
    call(conn, "award_xp", "discord", "1", 50, "r", "k1")
    for path in ("/", "/u/1", "/ranks"):
        body = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', body), path
        assert "<script>" not in body and " style=" not in body and "onclick" not in body


def test_every_form_is_post_with_a_csrf_token(client, sandbox, conn):
    sign_in_telegram(client, sandbox, "11")
    uid = conn.execute("SELECT xp.account_person('telegram', '11') AS u").fetchone()["u"]
    for path in ("/", f"/u/{uid}"):
        html = client.get(path).text
        for form in re.findall(r"<form[^>]*>.*?</form>", html, flags=re.S):
            if 'method="get"' in form:
                assert 'role="search"' in form  # the board's search only reads
                continue
            assert 'method="post"' in form and 'name="csrf"' in form, form


@pytest.mark.parametrize("path", ["/sign-out", "/me/privacy", "/link", "/link/cancel"])
def test_every_post_refuses_a_missing_or_foreign_token(client, make_client, sandbox, path):
    sign_in_telegram(client, sandbox, "12")
    other = make_client()
    sign_in_telegram(other, sandbox, "13")
    foreign = re.search(r'name="csrf" value="([^"]+)"', other.get("/").text).group(1)
    for data in ({}, {"csrf": ""}, {"csrf": foreign}):
        assert client.post(path, data={**data, "hidden": "on"}).status_code == 403, data


def test_the_session_cookie_is_signed_and_http_only(client, sandbox, conn):
    r = sign_in_telegram(client, sandbox, "14")
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    value = client.cookies["xpsync_session"]
    payload = json.loads(base64.b64decode(value.split(".")[0] + "=="))
    # a session claiming another account, re-encoded without the signature, is not accepted
    payload["account"] = ["telegram", "99", "Mallory"]
    forged = base64.b64encode(json.dumps(payload).encode()).decode() + "." + ".".join(value.split(".")[1:])
    client.cookies.clear()
    client.cookies.set("xpsync_session", value)
    assert 'id="me"' in client.get("/").text
    client.cookies.clear()
    client.cookies.set("xpsync_session", forged)
    assert 'id="me"' not in client.get("/").text
