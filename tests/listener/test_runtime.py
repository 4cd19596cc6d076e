"""The listener loop under stress: catch-up, several instances, killed connections and processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.helpers import call
from tests.listener.conftest import FAST, eventually, running, started, statuses, telegram_handler
from xpsync.listener.main import serve
from xpsync.listener.runtime import Listener, Options
from xpsync.sandbox import SandboxThread
from xpsync.settings import Settings


def rank_up_many(conn, n: int, box, platform: str = "telegram", prefix: str = "") -> None:
    """n people rank up; on Telegram each has pressed Start first."""
    for i in range(n):
        if platform == "telegram" and box is not None:
            started(conn, box, f"{prefix}{1000 + i}")
        call(conn, "award_xp", platform, f"{prefix}{1000 + i}", 300, "r", f"{prefix}k{i}")


async def test_a_listener_started_late_catches_up(conn, pool, db_url, sandbox):
    rank_up_many(conn, 30, sandbox)
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        await eventually(lambda: statuses(conn) == {"done": 30})
    assert len({m.chat_id for m in sandbox.telegram.messages}) == 30


async def test_two_instances_deliver_each_exactly_once(conn, pool, db_url, sandbox):
    options = Options(batch_size=10, lease_seconds=30, poll_seconds=0.05, concurrency=8)
    async with running(pool, db_url, await telegram_handler(sandbox, pool), options, owner="one") as one, \
            running(pool, db_url, await telegram_handler(sandbox, pool), options, owner="two") as two:
        rank_up_many(conn, 200, sandbox)
        await eventually(lambda: statuses(conn) == {"done": 200}, timeout=30)
    per_chat = Counter(m.chat_id for m in sandbox.telegram.messages)
    assert len(per_chat) == 200 and set(per_chat.values()) == {1}
    assert one.stats["done"] + two.stats["done"] == 200
    assert one.stats["done"] > 0 and two.stats["done"] > 0
    owners = {r["n"] for r in conn.execute("SELECT count(*) AS n FROM xp.deliveries GROUP BY sent_ref")}
    assert owners == {1}


async def test_connections_terminated_by_the_server_are_survived(conn, pool, db_url, sandbox):
    async with running(pool, db_url, await telegram_handler(sandbox, pool)) as listener:
        rank_up_many(conn, 5, sandbox)
        await eventually(lambda: statuses(conn) == {"done": 5})
        killed = []
        for _ in range(3):
            killed.append(conn.execute(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()["n"])
            await asyncio.sleep(0.3)
        assert killed[0] >= 2  # the LISTEN connection and the pool's
        rank_up_many(conn, 5, sandbox, prefix="9")
        await eventually(lambda: statuses(conn) == {"done": 10}, timeout=20)
    assert listener.stats["reconnects"] >= 1
    assert len(sandbox.telegram.messages) == 10


async def test_a_dead_task_makes_the_process_exit_non_zero(conn, db_url, sandbox):
    conn.execute("DROP FUNCTION xp.claim_deliveries")  # a broken deployment, not a lost connection
    settings = Settings.from_env({"DATABASE_URL": db_url, **sandbox.env()})
    code = await asyncio.wait_for(serve("discord", settings, FAST), 20)
    assert code == 1


class Stuck:
    """A handler whose platform call never returns."""

    target = "telegram"

    def __init__(self) -> None:
        self.calling = asyncio.Event()

    async def start(self) -> None: ...

    def configure(self, settings) -> None: ...

    async def lookup(self, conn, people) -> dict:
        return {}

    async def handle(self, delivery, facts) -> str | None:
        self.calling.set()
        await asyncio.Event().wait()
        return None

    async def close(self) -> None: ...


async def test_a_listener_cancelled_mid_batch_hands_its_claims_back(conn, pool, db_url):
    rank_up_many(conn, 3, None)  # no platform is called
    handler = Stuck()
    task = asyncio.create_task(Listener(pool, db_url, handler, options=FAST, owner="stuck").run(asyncio.Event()))
    await asyncio.wait_for(handler.calling.wait(), 10)
    held = conn.execute("SELECT count(*) AS n FROM xp.deliveries WHERE lease_owner = 'stuck'").fetchone()["n"]
    assert held == 3
    task.cancel()  # as when a sibling task dies and its TaskGroup cancels the rest
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = conn.execute("SELECT lease_owner, attempts, status FROM xp.deliveries").fetchall()
    # due again at once for another instance, the interrupted attempt not counted (not left to a 5 s lease)
    assert rows == [{"lease_owner": None, "attempts": 0, "status": "pending"}] * 3


# --- as a process ---------------------------------------------------------------------------------


def listen(target: str, db_url: str, box, **env: str) -> subprocess.Popen:
    environment = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DATABASE_URL": db_url,
        "XPSYNC_POLL_SECONDS": "0.2", **box.env(), **env,
    }
    return subprocess.Popen([sys.executable, "-m", "xpsync", "listen", target], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def running_instance(conn, pid: int) -> bool:
    """Whether the listener process `pid` sent its first heartbeat."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM xp.heartbeats WHERE instance LIKE %s AND stopped_at IS NULL)",
                        (f"%:{pid}:%",)).fetchone()["exists"]


def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s")
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_finishes_and_exits_zero(conn, db_url):
    with SandboxThread() as box:
        proc = listen("telegram", db_url, box)
        try:
            rank_up_many(conn, 3, box)
            wait_until(lambda: len(box.telegram.messages) == 3, 20)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
        finally:
            proc.kill()
            proc.communicate()
    assert statuses(conn) == {"done": 3}


@pytest.mark.slow
@pytest.mark.parametrize("kills", [1, 3])
def test_sigkill_mid_batch_loses_nothing(conn, db_url, kills):
    total = 40
    with SandboxThread() as box:
        box.faults.randomize("telegram", {"slow": 1.0}, delay=0.15)  # every send takes a while
        rank_up_many(conn, total, box)
        for _ in range(kills):
            proc = listen("telegram", db_url, box, XPSYNC_LEASE_SECONDS="2", XPSYNC_BATCH_SIZE="10")
            sent_before = len(box.telegram.messages)
            wait_until(lambda sent_before=sent_before: len(box.telegram.messages) >= sent_before + 3, 30)
            proc.kill()  # SIGKILL, mid-batch
            proc.communicate()
        box.faults.clear()
        survivor = listen("telegram", db_url, box, XPSYNC_LEASE_SECONDS="2")
        try:
            # up and running (its heartbeat beats after SIGTERM is handled): a killed listener may have
            # finished everything before the survivor even started, and a SIGTERM during start-up kills
            wait_until(lambda: running_instance(conn, survivor.pid), 30)
            wait_until(lambda: statuses(conn) == {"done": total}, 60)
        finally:
            survivor.terminate()
            try:
                _, errors = survivor.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                survivor.kill()
                survivor.communicate()  # its pipes closed whatever happens
                raise
        assert survivor.returncode == 0, errors
        per_chat = Counter(m.chat_id for m in box.telegram.messages)
    assert len(per_chat) == total  # nothing lost
    duplicates = sum(n - 1 for n in per_chat.values())
    print(f"\n{kills} SIGKILL(s): {total} deliveries done, {duplicates} duplicate message(s)")
    # a duplicate is a message sent by a killed listener before it could ack: at most what it had in flight
    assert duplicates <= kills * Options().concurrency
