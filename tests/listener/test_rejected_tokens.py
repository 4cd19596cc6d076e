"""A token revoked while a listener runs (a 401 after start-up) stops it with one line naming the
variable and exit status 2; its claims are released and the backlog is not marked failed."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import call
from tests.listener.conftest import FAST, G1, eventually, started, statuses
from tests.listener.test_runtime import listen, rank_up_many, wait_until
from xpsync.listener.main import serve
from xpsync.sandbox import SandboxThread
from xpsync.settings import ConfigError, Settings


def backlog(conn, target: str) -> list[dict]:
    return conn.execute("SELECT status, attempts, lease_owner FROM xp.deliveries WHERE status <> 'done' "
                        "AND target = %s", (target,)).fetchall()


async def test_a_discord_token_reset_while_running_stops_the_listener(conn, db_url, community):
    settings = Settings.from_env({"DATABASE_URL": db_url, **community.env()})
    listening = asyncio.create_task(serve("discord", settings, FAST))
    call(conn, "award_xp", "telegram", "t1", 300, "quiz", "k1")
    await eventually(lambda: statuses(conn, "discord") == {"done": 1})
    community.discord.token = "reset-in-the-developer-portal"
    for n in range(5):
        member = str(300000000000000100 + n)
        community.discord.add_member(G1, member)
        call(conn, "award_xp", "discord", member, 300, "quiz", f"after-reset-{n}")
    with pytest.raises(ConfigError, match=r"^DISCORD_TOKEN was rejected by Discord"):
        await asyncio.wait_for(listening, 20)
    assert backlog(conn, "discord") == [{"status": "pending", "attempts": 0, "lease_owner": None}] * 5


async def test_a_telegram_token_revoked_while_running_stops_the_listener(conn, db_url, sandbox):
    settings = Settings.from_env({"DATABASE_URL": db_url, **sandbox.env()})
    listening = asyncio.create_task(serve("telegram", settings, FAST))
    rank_up_many(conn, 1, sandbox)
    await eventually(lambda: statuses(conn) == {"done": 1})
    sandbox.telegram.token = "1:revoked-by-botfather"
    rank_up_many(conn, 6, sandbox, prefix="7")
    with pytest.raises(ConfigError, match=r"^TELEGRAM_TOKEN was rejected by Telegram"):
        await asyncio.wait_for(listening, 20)
    assert backlog(conn, "telegram") == [{"status": "pending", "attempts": 0, "lease_owner": None}] * 6


@pytest.mark.slow
def test_the_listener_process_exits_2_with_one_line(conn, db_url):
    with SandboxThread() as box:
        proc = listen("telegram", db_url, box)
        try:
            rank_up_many(conn, 1, box)
            wait_until(lambda: statuses(conn) == {"done": 1}, 30)
            box.telegram.token = "1:revoked"
            started(conn, box, "555")
            call(conn, "award_xp", "telegram", "555", 300, "quiz", "k555")
            code = proc.wait(30)
        finally:
            proc.kill()
            _, stderr = proc.communicate()
    assert code == 2
    assert stderr.strip().splitlines()[-1] == (
        "xpsync: TELEGRAM_TOKEN was rejected by Telegram: check it with @BotFather")
    assert "Traceback" not in stderr
    assert backlog(conn, "telegram") == [{"status": "pending", "attempts": 0, "lease_owner": None}]
