"""The web app against this test's database, logged in as a member of xp_web (no table access),
with the sandbox standing in for Discord's OAuth2."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from tests.helpers import telegram_login
from xpsync.db import as_role
from xpsync.sandbox import Sandbox
from xpsync.sandbox.server import SandboxThread
from xpsync.settings import Settings
from xpsync.web.app import create_app

WEB_SECRET = "test-web-secret-0123456789abcdef"
BOT_USERNAME = "xpsync_sandbox_bot"


def as_web(db_url: str) -> str:
    """The test database's URL, every session acting as role xp_web."""
    return as_role(db_url, "xp_web")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with SandboxThread() as box:
        yield box


def web_settings(sandbox: Sandbox, **extra: str) -> Settings:
    return Settings.from_env({**sandbox.env(), "XPSYNC_WEB_SECRET": WEB_SECRET,
                              "XPSYNC_PUBLIC_URL": "http://testserver", "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
                              **extra})


@pytest.fixture
def make_client(db_url: str, sandbox: Sandbox) -> Iterator[Any]:
    opened: list[TestClient] = []

    def _make(raise_server_exceptions: bool = True, **env: str) -> TestClient:
        app = create_app(web_settings(sandbox, **env), as_web(db_url), pool_size=2)
        client = TestClient(app, follow_redirects=False, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Any) -> TestClient:
    return make_client()


def telegram_state(client: TestClient) -> str:
    """The state our sign-in page hands the Login Widget for this browser (it comes back in the redirect)."""
    found = re.search(r'data-auth-url="([^"]+)"', client.get("/sign-in").text)
    assert found, "no Telegram widget on the sign-in page"
    return query_of(html.unescape(found.group(1)))["state"][0]


def sign_in_telegram(client: TestClient, sandbox: Sandbox, user_id: str, name: str = "Tg",
                     **extra: str) -> httpx.Response:
    """What the widget does after our sign-in page: back to /auth/telegram with its signed fields."""
    fields = {**telegram_login(sandbox.telegram.token, user_id, name), "state": telegram_state(client), **extra}
    return client.get("/auth/telegram?" + urlencode(fields))


def sign_in_discord(client: TestClient, sandbox: Sandbox, user_id: str, name: str = "Dc",
                    guilds: list[tuple[str, str, int]] | None = None) -> httpx.Response:
    """The whole code flow: our redirect, the sandbox's authorize page, our callback."""
    sandbox.oauth.login_as(user_id, name, name, guilds)
    start = client.get("/auth/discord")
    assert start.status_code == 303, start.text
    granted = httpx.get(start.headers["location"], follow_redirects=False)
    assert granted.status_code == 302, granted.text
    back = urlsplit(granted.headers["location"])
    return client.get(back.path + "?" + back.query)


def csrf_of(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


ADMIN_GUILD = "900000000000000001"


def admin_env(db_url: str, **extra: str) -> dict[str, str]:
    """The web with the admin panel's changes (an xp_admin login) and an admin guild."""
    return {"XPSYNC_ADMIN_DATABASE_URL": as_role(db_url, "xp_admin"), "XPSYNC_ADMIN_GUILDS": ADMIN_GUILD, **extra}


def login_token(conn: Any, name: str = "alice", role: str = "admin", valid: str = "1 day") -> str:
    """A login link's token, recorded as `xpsync web admin-token create` records it."""
    import secrets

    from xpsync.web.admin.login import TOKEN_PREFIX, digest

    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute("SELECT xp.create_admin_token(%s, %s, %s, %s::interval)", (name, role, digest(token), valid))
    return token


def sign_in_admin(client: TestClient, conn: Any, name: str = "alice", role: str = "admin") -> httpx.Response:
    """Open the login link, then click its button (a POST)."""
    token = login_token(conn, name, role)
    r = client.post("/admin/login", data={"token": token, "csrf": csrf_of(client, f"/admin/login?token={token}")})
    assert r.status_code == 303, r.text
    return r
