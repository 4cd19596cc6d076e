"""Chat messages buffered for one xp.record_messages call (bots/messages.py): recorded after the delay
in one call, flushed when either bot stops, a refused message never loses the others, and a
database that drops its connections or restarts while messages wait loses none of them."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace as NS
from typing import Any

import pytest

from tests.helpers import scalar
from tests.listener.conftest import eventually
from xpsync.bots.api import Xp
from xpsync.bots.discord.client import XpBot
from xpsync.bots.messages import MessageBuffer
from xpsync.bots.telegram.app import build_dispatcher
from xpsync.platforms.discord_client import use_api_base
from xpsync.platforms.telegram_client import build_bot


class Counted(Xp):
    """The real calls, counted."""

    calls: list[int]

    async def record_messages(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.calls.append(len(items))
        return await super().record_messages(items)


def counted(pool, platform: str = "telegram") -> Counted:
    xp = Counted(pool, platform)
    xp.calls = []
    return xp


def counted_messages(conn) -> int:
    return scalar(conn, "SELECT count(*) FROM xp.ledger WHERE source = 'message'")


async def test_messages_arriving_together_are_recorded_in_one_call_after_the_delay(pool, conn):
    xp = counted(pool)
    buffer = MessageBuffer(xp, delay=0.05)
    for i in range(30):
        buffer.add(str(i), "-100", f"m{i}", 20, f"member {i}")
    assert xp.calls == [] and counted_messages(conn) == 0  # waiting for the tick
    await eventually(lambda: counted_messages(conn) == 30)
    assert xp.calls == [30]
    assert scalar(conn, "SELECT u.display_name FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id "
                        "WHERE a.external_id = '7'") == "member 7"


async def test_a_full_buffer_is_recorded_at_once_without_waiting_for_the_delay(pool, conn):
    xp = counted(pool)
    buffer = MessageBuffer(xp, delay=3600, size=10)
    for i in range(25):
        buffer.add(str(i), "-100", f"m{i}", 20, None)
    await eventually(lambda: counted_messages(conn) == 20)
    assert xp.calls == [10, 10]
    await buffer.close()  # the last five, which were waiting for the (hour-long) delay
    assert counted_messages(conn) == 25 and xp.calls == [10, 10, 5]
    with pytest.raises(RuntimeError):
        buffer.add("99", "-100", "late", 20, None)


async def test_a_refused_message_is_logged_and_does_not_lose_the_others(pool, conn, caplog):
    buffer = MessageBuffer(Xp(pool, "telegram"), delay=3600)
    buffer.add("1", "-100", "m1", 20, None)
    buffer.add("2", "c" * 65, "m2", 20, None)  # a chat id longer than the database accepts: XP002
    buffer.add("3", "-100", "m3", 20, None)
    with caplog.at_level(logging.WARNING, logger="xpsync.bots.messages"):
        await buffer.flush()
    assert counted_messages(conn) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "message m2 in chat " + "c" * 65 + " was not counted: XP002 chat_id is 65 characters long (at most 64)"]


async def test_connections_dropped_while_messages_wait_lose_nothing(pool, conn, caplog):
    xp = counted(pool)
    buffer = MessageBuffer(xp, delay=3600)
    await xp.leaderboard()  # the pool holds an open connection ...
    for i in range(5):
        buffer.add(str(i), "-100", f"m{i}", 20, None)
    # ... which the server drops while the messages wait (an administrator, a failover, a restart)
    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with caplog.at_level(logging.WARNING, logger="xpsync.bots.messages"):
        await buffer.flush()
    assert counted_messages(conn) == 5
    assert len(xp.calls) >= 1 and all(n == 5 for n in xp.calls)  # the same batch again, counted once


@pytest.mark.slow  # restarts the run's server
async def test_a_database_restart_while_messages_wait_loses_nothing(pool, conn, db_url, server, caplog):
    import psycopg

    buffer = MessageBuffer(Xp(pool, "telegram"), delay=3600)
    for i in range(5):
        buffer.add(str(i), "-100", f"m{i}", 20, None)
    with caplog.at_level(logging.WARNING, logger="xpsync.bots.messages"):
        restart = asyncio.create_task(asyncio.to_thread(server.restart))
        await asyncio.sleep(0.05)
        await buffer.flush()
        await restart
    with psycopg.connect(db_url) as c:
        assert c.execute("SELECT count(*) FROM xp.ledger WHERE source = 'message'").fetchone()[0] == 5


async def test_a_database_out_of_reach_for_too_long_is_one_clear_line(pool, conn, caplog):
    class Unreachable(Xp):
        async def record_messages(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            import psycopg

            raise psycopg.OperationalError("connection refused")

    buffer = MessageBuffer(Unreachable(pool, "telegram"), delay=3600, give_up_after=0.3)
    buffer.add("1", "-100", "m1", 20, None)
    with caplog.at_level(logging.WARNING, logger="xpsync.bots.messages"):
        await buffer.flush()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["1 chat messages were not counted: the database stayed out of reach for 0 s "
                      "(connection refused)"]


async def test_the_telegram_bot_records_what_is_buffered_when_it_shuts_down(pool, sandbox, conn):
    dp = build_dispatcher(pool)
    dp["messages"].delay = 3600  # nothing would be recorded before the shutdown but for the flush
    bot = build_bot(sandbox.telegram.token, sandbox.telegram_api_base)
    try:
        group = {"id": -1009, "type": "supergroup", "title": "Group"}
        for n in (1, 2):
            await dp.feed_raw_update(bot, {"update_id": n, "message": {
                "message_id": n, "date": int(time.time()), "chat": group, "text": "hello everyone",
                "from": {"id": 40 + n, "is_bot": False, "first_name": "Ivan"}}})
        assert counted_messages(conn) == 0
        await dp.emit_shutdown(bot=bot)  # what start_polling does when it stops (SIGTERM)
        assert counted_messages(conn) == 2
    finally:
        await bot.session.close()


async def test_the_discord_bot_records_what_is_buffered_when_it_closes(pool, sandbox, conn):
    use_api_base(sandbox.discord_api_base)
    client = XpBot(pool, sync_commands=False)
    await client.login(sandbox.discord.token)
    chat = client.get_cog("Chat")
    chat.messages.delay = 3600
    guild = NS(id=77)
    author = NS(id=5, bot=False, display_name="m5")
    await chat.on_message(NS(author=author, guild=guild, content="hello there", channel=NS(id=88), id=1))
    assert counted_messages(conn) == 0
    await client.close()  # SIGTERM closes the bot, which unloads every cog
    assert counted_messages(conn) == 1
