"""`xpsync web`, `xpsync web api-key create NAME` and `xpsync web admin-token create NAME` as an operator
runs them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request

import httpx2 as httpx
import pytest

from tests.helpers import scalar
from tests.web.conftest import WEB_SECRET, as_web
from tests.xpsync.test_cli import xpsync
from xpsync.db import as_role
from xpsync.web.serve import free_port

pytestmark = pytest.mark.slow  # xpsync web as a process


def test_without_the_session_secret_the_web_exits_2_naming_it(db_url):
    result = xpsync("web", env={"DATABASE_URL": db_url})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xpsync: XPSYNC_WEB_SECRET is not set: export XPSYNC_WEB_SECRET with a long random string that signs "
        "web sessions (e.g. `openssl rand -hex 32`)"]


def test_a_malformed_bind_is_one_line(db_url):
    result = xpsync("web", env={"DATABASE_URL": db_url, "XPSYNC_WEB_SECRET": WEB_SECRET, "XPSYNC_WEB_BIND": "8080"})
    assert result.returncode == 2 and "XPSYNC_WEB_BIND must be HOST:PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_login_outside_xp_web_or_a_database_without_the_web_is_one_line(db_url, conn, server):
    as_bot = db_url + "&options=" + "-c%20role%3Dxp_bot"
    env = {"XPSYNC_WEB_SECRET": WEB_SECRET}
    result = xpsync("web", env={**env, "DATABASE_URL": as_bot})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is not in xp_web" in result.stderr
    empty = server.url("postgres")  # a database nobody migrated
    result = xpsync("web", env={**env, "DATABASE_URL": empty})
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "is not migrated: run `xpsync migrate`" in result.stderr
    # a database an older xpsync migrated: the schema, but not the web's functions
    conn.execute("DROP FUNCTION xp.web_settings()")
    result = xpsync("web", env={**env, "DATABASE_URL": as_web(db_url)})
    assert result.returncode != 0 and result.stderr.strip().splitlines() == [
        f"xpsync: the database at {as_web(db_url)} has no web functions yet: run `xpsync migrate`"]


def test_api_keys_are_printed_once_and_work(db_url, conn):
    made = xpsync("web", "api-key", "create", "giveaway-bot", env={"DATABASE_URL": db_url})
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert scalar(conn, "SELECT xp.api_key_name(%s)", key) == "giveaway-bot"
    again = xpsync("web", "api-key", "create", "giveaway-bot", env={"DATABASE_URL": db_url})
    assert again.returncode == 1
    assert again.stderr.strip() == "xpsync: XP002 an API key named 'giveaway-bot' exists already"
    # the web's own role may not make keys
    refused = xpsync("web", "api-key", "create", "other", env={"DATABASE_URL": as_web(db_url)})
    assert refused.returncode == 1 and "permission denied" in refused.stderr


def test_the_web_serves_until_sigterm_then_exits_0(db_url):
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": as_web(db_url), "XPSYNC_WEB_SECRET": WEB_SECRET,
           "XPSYNC_WEB_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "xpsync", "web"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?q=a%26b") as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        output = proc.communicate()[0]
    assert "q=a" not in output  # no access log with query strings


def test_admin_login_links_are_printed_once_signed_in_with_once_and_revoked(db_url, conn):
    from xpsync.web.admin.login import digest

    env = {"DATABASE_URL": db_url, "XPSYNC_PUBLIC_URL": "https://xp.example.org"}
    made = xpsync("web", "admin-token", "create", "night-shift", "--role", "viewer", env=env)
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1]
    assert link.startswith("https://xp.example.org/admin/login?token=xpa_")
    token = link.partition("token=")[2]
    assert scalar(conn, "SELECT count(*) FROM xp.admin_tokens WHERE token_hash = %s", digest(token)) == 1
    assert token not in made.stderr and "night-shift" in made.stdout and "viewer" in made.stdout
    used = conn.execute("SELECT name, role FROM xp.use_admin_token(%s)", (digest(token),)).fetchall()
    assert [(row["name"], row["role"]) for row in used] == [("night-shift", "viewer")]
    assert conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest(token),)).fetchall() == []  # once
    # bad input: one line each, nothing recorded
    bad = xpsync("web", "admin-token", "create", "no spaces allowed", "--role", "admin", env=env)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "XP002" in bad.stderr
    role = xpsync("web", "admin-token", "create", "x", "--role", "root", env=env)
    assert role.returncode == 2 and "invalid choice" in role.stderr
    for hours in ("0", "nan", "inf", "1000"):
        late = xpsync("web", "admin-token", "create", "x", "--role", "admin", "--hours", hours, env=env)
        assert late.returncode == 2 and late.stderr.strip().splitlines() == [
            f"xpsync: --hours must be from 1/60 (a minute) to 720 (30 days), not {float(hours)}"]
    as_web_env = {**env, "DATABASE_URL": as_web(db_url)}
    refused = xpsync("web", "admin-token", "create", "x", "--role", "admin", env=as_web_env)
    assert refused.returncode == 1 and "permission denied" in refused.stderr
    assert scalar(conn, "SELECT count(*) FROM xp.admin_tokens") == 1
    second = xpsync("web", "admin-token", "create", "night-shift", "--role", "admin", "--hours", "1", env=env)
    assert second.returncode == 0, second.stderr
    revoked = xpsync("web", "admin-token", "revoke", "night-shift", env=env)
    assert revoked.returncode == 0 and "revoked 2 login link(s)" in revoked.stdout
    later = second.stdout.strip().splitlines()[-1].partition("token=")[2]
    assert conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest(later),)).fetchall() == []


def test_no_login_token_api_key_or_login_query_string_reaches_the_log(db_url, conn):
    """The panel's way in through a real `xpsync web` at DEBUG: the link's page, its click, a wrong
    token, an API call with a key; what the process printed holds none of them."""
    from tests.web.conftest import login_token

    port = free_port()
    token = login_token(conn, "night-shift", "admin")
    key = xpsync("web", "api-key", "create", "giveaway", env={"DATABASE_URL": db_url}).stdout.strip().splitlines()[-1]
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": as_web(db_url), "XPSYNC_WEB_SECRET": WEB_SECRET,
           "XPSYNC_WEB_BIND": f"127.0.0.1:{port}", "XPSYNC_ADMIN_DATABASE_URL": as_role(db_url, "xp_admin"),
           "XPSYNC_LOG_LEVEL": "DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "xpsync", "web"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert client.get("/healthz").status_code == 200
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            page = client.get(f"/admin/login?token={token}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            assert client.post("/admin/login", data={"token": token, "csrf": csrf}).status_code in (200, 303)
            assert client.get("/admin").status_code == 200
            client.get("/admin/login?token=xpa_wrong-one-0123456789")
            client.post("/admin/login", data={"token": "xpa_wrong-one-0123456789", "csrf": csrf})
            client.get("/api/v1/leaderboard", headers={"Authorization": f"Bearer {key}"})
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        output = proc.communicate()[0]
    assert "GET /admin/login" in output  # the access log is on, at DEBUG...
    for secret in (token, "xpa_wrong-one", key, "token="):
        assert secret not in output  # ...and holds none of these
