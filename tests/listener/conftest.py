from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from xpsync.db import create_pool
from xpsync.listener.discord_roles import DiscordRoles
from xpsync.listener.runtime import Listener, Options
from xpsync.listener.telegram_notices import TelegramNotices
from xpsync.sandbox import Limits, Sandbox

FAST = Options(batch_size=50, lease_seconds=5, poll_seconds=0.2, concurrency=16)

# Discord ids are snowflakes (the sandbox, like Discord, refuses anything else)
G1, G2 = "100000000000000001", "100000000000000002"
R2, R3, R5, VIP = "200000000000000002", "200000000000000003", "200000000000000005", "200000000000000099"
D1 = "300000000000000001"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox()
    await box.start()
    yield box
    await box.stop()


@asynccontextmanager
async def sandbox_with(**limits):
    """A sandbox whose limits differ from the real ones by `limits` (smaller windows keep tests short)."""
    box = Sandbox(limits=replace(Limits(), **limits))
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def pool(db_url):
    p = create_pool(db_url, max_size=8, name="test-listener")
    await p.open(wait=True, timeout=10)
    yield p
    await p.close()


@pytest.fixture(autouse=True)
def fast_pace(conn):
    """Loopback sends need no Telegram pacing (the pace itself is tested on its own)."""
    conn.execute("UPDATE xp.settings SET value = '10000' WHERE key = 'telegram.messages_per_second'")
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'telegram.chat_interval_seconds'")


@pytest.fixture
def fast_retries(conn):
    """Retry backoff in tens of milliseconds instead of seconds."""
    conn.execute("UPDATE xp.settings SET value = '0.05' WHERE key = 'delivery.backoff_base_seconds'")
    conn.execute("UPDATE xp.settings SET value = '0.2' WHERE key = 'delivery.backoff_cap_seconds'")


@pytest.fixture
def community(conn, sandbox):
    """Guild G1 mirrors ranks 2, 3 and 5 (roles R2, R3, R5); Telegram account t1 and Discord member D1
    (who also holds VIP, a role xpsync does not manage) are one person."""
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s), (%s, 3, %s), (%s, 5, %s)", (G1, R2, G1, R3, G1, R5))
    sandbox.discord.add_guild(G1, [R2, R3, R5, VIP])
    sandbox.discord.add_member(G1, D1, [VIP])
    code = conn.execute("SELECT xp.create_link_code('telegram', 't1') AS c").fetchone()["c"]
    conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (D1, code))
    conn.execute("DELETE FROM xp.deliveries")  # start from a quiet outbox
    return sandbox


def started(conn, box, *chat_ids: str) -> None:
    """These Telegram users pressed Start (the bot calls xp.chat_opened): the bot may write to them."""
    box.telegram.open_chat(*chat_ids)
    for chat_id in chat_ids:
        conn.execute("SELECT xp.chat_opened('telegram', %s)", (chat_id,))


async def discord_handler(sandbox, pool) -> DiscordRoles:
    handler = DiscordRoles(sandbox.discord.token, sandbox.discord_api_base, pool, call_timeout=2)
    await handler.start()
    return handler


async def telegram_handler(sandbox, pool) -> TelegramNotices:
    handler = TelegramNotices(sandbox.telegram.token, sandbox.telegram_api_base, pool, call_timeout=2)
    await handler.start()
    return handler


@asynccontextmanager
async def running(pool, db_url, handler, options: Options = FAST, owner: str | None = None):
    listener = Listener(pool, db_url, handler, options=options, owner=owner)
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        yield listener
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await handler.close()


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout}s: {predicate}")
        await asyncio.sleep(interval)


def settings(conn, **values) -> None:
    """UPDATE xp.settings: key with dots written with double underscores (discord__requests_per_second)."""
    for key, value in values.items():
        changed = conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (str(value), key.replace("__", ".")))
        assert changed.rowcount == 1, f"no setting {key}"


def busiest_second(times: list[float]) -> int:
    """The most events within any one second (a sliding window) of these times."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def statuses(conn, target: str | None = None) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, count(*) AS n FROM xp.deliveries WHERE %(t)s::text IS NULL OR target = %(t)s GROUP BY 1",
        {"t": target},
    )
    return {r["status"]: r["n"] for r in rows}
