"""Running bots tell the database they run: heartbeats with the calls they made, and every change of
the operator tables taken up within a second (the config version in the heartbeat)."""

from __future__ import annotations

import asyncio
import os
import signal

from tests.listener.conftest import eventually
from xpsync.bots.api import Xp
from xpsync.bots.telegram.app import run
from xpsync.config_watch import presence
from xpsync.settings import Settings


def beats_of(conn, kind):
    return conn.execute("SELECT * FROM xp.admin_heartbeats() WHERE kind = %s", (kind,)).fetchall()


async def test_a_bot_beats_with_its_calls_and_takes_every_change_up(pool, db_url, conn):
    xp = Xp(pool, "telegram")
    changes: list[frozenset[str]] = []

    async def dropped(tables: frozenset[str]) -> None:
        changes.append(tables)

    async with presence(pool, db_url, "bot:telegram", xp) as watch:
        watch.on_change(dropped)
        [first] = await eventually(lambda: beats_of(conn, "bot:telegram"))
        await eventually(lambda: changes == [frozenset({"*"})])  # on start: whatever changed before
        await xp.claim_daily("77", "Ivan")
        await xp.profile("77")
        await eventually(lambda: beats_of(conn, "bot:telegram")[0]["handled"] == 2)
        conn.execute("UPDATE xp.settings SET value = '40' WHERE key = 'daily.coins'")
        version = conn.execute("SELECT xp.config_version() AS v").fetchone()["v"]
        await eventually(lambda: beats_of(conn, "bot:telegram")[0]["config_version"] == version)
        assert changes[-1] == frozenset({"settings"}) and watch.version == version
    [last] = beats_of(conn, "bot:telegram")
    assert (last["instance"], last["state"]) == (first["instance"], "stopped")


async def test_the_telegram_bot_process_reports_its_heartbeat(db_url, conn, sandbox):
    settings = Settings.from_env({**sandbox.env(), "DATABASE_URL": db_url})
    bot = asyncio.create_task(run(settings))
    try:
        await eventually(lambda: bot.done() or beats_of(conn, "bot:telegram"), timeout=30)
        assert not bot.done(), bot.result()
        version = conn.execute("SELECT xp.config_version() AS v").fetchone()["v"]
        await eventually(lambda: beats_of(conn, "bot:telegram")[0]["config_version"] == version)
    finally:
        if not bot.done():  # (only while aiogram's own SIGTERM handler is in place)
            os.kill(os.getpid(), signal.SIGTERM)  # aiogram stops polling on SIGTERM, as under systemd
        assert await asyncio.wait_for(bot, 30) == 0
    assert beats_of(conn, "bot:telegram")[0]["state"] == "stopped"
