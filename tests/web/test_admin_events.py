"""GET /admin/events against a real server: server-sent events from a LISTEN connection and a cheap
cursor, an id on every event, resumption with Last-Event-ID read from the database, keep-alive
comments, and streams that end when the server stops."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import time

import httpx2 as httpx
import pytest

from tests.helpers import call, scalar
from tests.web.conftest import admin_env, as_web, login_token, web_settings
from xpsync.web.admin import events, pulse
from xpsync.web.serve import free_port, in_thread

pytestmark = pytest.mark.slow  # a web server on its own thread


@pytest.fixture
def site(db_url, sandbox, monkeypatch):
    monkeypatch.setattr(events, "KEEPALIVE", 0.5)
    monkeypatch.setattr(pulse.Pulse, "IDLE", 0.5)
    port = free_port()
    settings = web_settings(sandbox, XPSYNC_WEB_BIND=f"127.0.0.1:{port}", XPSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}",
                            **admin_env(db_url))
    with in_thread(settings, as_web(db_url)) as url:
        yield url


@pytest.fixture
def clients():
    made: list[httpx.Client] = []
    yield made
    for client in made:
        client.close()


def operator(site, conn, role="admin", *, clients: list) -> httpx.Client:
    """An HTTP client signed in to the panel with a login link (closed after the test)."""
    client = httpx.Client(base_url=site, follow_redirects=False, timeout=10)
    clients.append(client)
    token = login_token(conn, "ops", role)
    page = client.get(f"/admin/login?token={token}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"token": token, "csrf": csrf}).status_code == 303
    return client


class Stream:
    """The events of one open stream, read on a thread of their own."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.items: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.items.put({"comment": line[1:].strip()})
                elif line == "":
                    if event:
                        self.items.put(event)
                    event = {}
                else:
                    field, _, value = line.partition(":")
                    event[field] = value.strip()
        except (httpx.HTTPError, httpx.StreamError) as exc:
            self.items.put({"error": type(exc).__name__})  # cut off (or closed by the test)
            return
        self.items.put(None)  # the stream ended, complete

    def next(self, within: float = 10.0, *, skip_comments: bool = True):
        while True:
            item = self.items.get(timeout=within)
            if item is None or "event" in item or "error" in item or ("comment" in item and not skip_comments):
                return item  # (a frame with only `retry:` is for the browser)

    def until(self, name: str, within: float = 10.0) -> dict:
        while True:
            item = self.next(within)
            assert item is not None, f"the stream ended before a {name!r} event"
            if item.get("event") == name:
                return {**item, "data": json.loads(item["data"])}


@contextlib.contextmanager
def stream(client: httpx.Client, last_event_id: str | None = None):
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with client.stream("GET", "/admin/events", headers=headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def bot_award(conn, external_id, key, amount=10):
    """An ordinary award, as a bot makes it (rings no NOTIFY)."""
    conn.execute("SET ROLE xp_bot")
    try:
        call(conn, "award_xp", "telegram", external_id, amount, "chat", key)
    finally:
        conn.execute("RESET ROLE")


def test_the_stream_says_where_things_stand_then_what_moves(site, conn, clients):
    with stream(operator(site, conn, clients=clients)) as events_:
        hello = events_.until("hello")
        assert set(hello["data"]) >= {"ledger", "events", "deliveries", "audit", "config", "beats"}
        assert hello["id"] == ",".join(f"{k}:{v}" for k, v in sorted(hello["data"].items()))
        bot_award(conn, "5", "k1")  # no doorbell: the cursor, read about twice a second, sees it
        ledger = events_.until("ledger")
        assert ledger["data"]["from"] == hello["data"]["ledger"] and ledger["data"]["to"] > ledger["data"]["from"]
        assert ledger["id"].split(",") != hello["id"].split(",") and f"ledger:{ledger['data']['to']}" in ledger["id"]
        conn.execute("BEGIN")
        conn.execute("SET LOCAL xp.actor = 'dba-carol'")
        conn.execute("UPDATE xp.settings SET value = '33' WHERE key = 'daily.coins'")
        conn.execute("COMMIT")
        audit = events_.until("audit")
        assert [(e["actor"], e["action"], e["target"]) for e in audit["data"]["entries"]] == [
            ("dba-carol", "settings.update", "daily.coins")]
        assert events_.until("config")["data"]["to"] == scalar(conn, "SELECT xp.config_version()")
        conn.execute("SELECT xp.heartbeat('l1', 'listener:discord', '1')")
        assert events_.until("beats")["data"]["to"] >= 1


def test_a_reconnect_is_told_what_it_missed_from_the_database(site, conn, clients):
    client = operator(site, conn, clients=clients)
    with stream(client) as first:
        hello = first.until("hello")
    # while nobody listens: an award, an admin change (its NOTIFY is lost), a delivery
    bot_award(conn, "6", "k2")
    conn.execute("SELECT xp.adjust(%s, 'coins', 5, 'missed', 'ops')", (scalar(conn, "SELECT max(id) FROM xp.users"),))
    call(conn, "award_xp", "discord", "7", 300, "r", "k3")  # a rank-up: a delivery
    with stream(client, last_event_id=hello["id"]) as again:
        missed = {}
        while set(missed) < {"ledger", "audit", "deliveries", "events"}:
            item = again.next()
            assert item is not None and item.get("event") != "hello"  # it picks up where it was
            missed[item["event"]] = json.loads(item["data"])
        assert missed["ledger"]["from"] == hello["data"]["ledger"]
        assert [e["action"] for e in missed["audit"]["entries"]] == ["person.adjust"]
        assert missed["deliveries"]["to"] == scalar(conn, "SELECT max(id) FROM xp.deliveries")


def test_a_quiet_stream_keeps_alive_and_a_bad_last_event_id_starts_afresh(site, conn, clients):
    client = operator(site, conn, clients=clients)
    with stream(client, last_event_id="ledger:abc,<script>") as events_:
        assert events_.next()["event"] == "hello"
        assert events_.next(skip_comments=False) == {"comment": "keep-alive"}


def test_only_operators_get_the_stream(site, conn, clients):
    assert httpx.get(site + "/admin/events", timeout=5).status_code == 401
    viewer = operator(site, conn, "viewer", clients=clients)
    with stream(viewer) as events_:
        assert events_.until("hello")


def test_the_listen_connection_is_there_while_a_page_is_open(site, conn, clients):
    def listening():
        return scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", pulse.APPLICATION)

    with stream(operator(site, conn, clients=clients)) as events_:
        events_.until("hello")
        assert eventually_sync(lambda: listening() == 1)
    assert eventually_sync(lambda: listening() == 0)  # no page open: closed after Pulse.IDLE


def test_open_streams_end_when_the_server_stops(db_url, sandbox, conn, clients):
    port = free_port()
    settings = web_settings(sandbox, XPSYNC_WEB_BIND=f"127.0.0.1:{port}", XPSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}",
                            **admin_env(db_url))
    with contextlib.ExitStack() as still_open:
        with in_thread(settings, as_web(db_url)) as site:
            events_ = still_open.enter_context(stream(operator(site, conn, clients=clients)))
            events_.until("hello")
        # ended by the server, complete: not cut off after uvicorn's graceful shutdown gave up waiting
        assert events_.next(within=30) is None


def eventually_sync(predicate, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.05)
    return True



async def test_a_burst_of_doorbells_is_a_few_reads_and_each_change_is_seen_at_once(db_url, monkeypatch):
    """With no timer to speak of (TICK 30 s), only doorbells make the pulse read the cursor: a change
    that rings is seen at once, and a burst of 200 NOTIFYs, each in a transaction of its own, is a
    few reads (debounced), not 200."""
    import asyncio

    import psycopg

    monkeypatch.setattr(pulse.Pulse, "TICK", 30.0)
    beat = pulse.Pulse(db_url, asyncio.Event())
    task = asyncio.create_task(beat.run())
    change = "UPDATE xp.settings SET value = to_jsonb(value::text::int + 1) WHERE key = 'daily.coins'"
    try:
        async with beat.subscription() as subscription:
            first = await subscription.next(10)  # the first read, as the connection opens
            assert first is not None
            async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
                await conn.execute(change)  # rings xp_config and xp_admin
                moved_to = await subscription.next(10)
                assert moved_to is not None and moved_to["audit"] > first["audit"]
                reads = beat.reads
                for i in range(200):
                    await conn.execute("SELECT pg_notify('xp_admin', %s)", (str(i),))
                await conn.execute(change)
                last = await subscription.next(10)
                assert last is not None and last["audit"] > moved_to["audit"]
                await asyncio.sleep(0.3)  # what the debounce still collects
                assert beat.reads - reads <= 20, beat.reads - reads
    finally:
        await beat.close()
        task.cancel()  # as the app does at its end (a read may wait out its TICK)
        with contextlib.suppress(asyncio.CancelledError):
            await task
