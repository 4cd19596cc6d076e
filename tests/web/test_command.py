"""`xpsync web` and `xpsync web api-key create NAME` as an operator runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import scalar
from tests.web.conftest import WEB_SECRET, as_web
from tests.xpsync.test_cli import xpsync
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
