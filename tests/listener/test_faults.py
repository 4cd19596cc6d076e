"""design.md §13 faults: a PostgreSQL restart under load, and listeners killed again and again
while the platforms answer 429, 5xx, slowly or 403 at random. Every delivery ends done or
failed with its reason; none is lost; the counts are printed."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers import assert_consistent
from tests.listener.conftest import G1, R2, R3, eventually, running, started, telegram_handler
from tests.listener.test_runtime import listen, wait_until
from xpsync.sandbox import SandboxThread

pytestmark = pytest.mark.slow  # listener processes killed again and again, a server restarted


async def award_until_done(url: str, external_id: str, key: str) -> None:
    """A bot's award that survives a restart: retry the same key until it answers."""
    for _ in range(200):
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as c:
                await c.execute("SELECT xp.award_xp('telegram', %s, 300, 'quiz', %s)", (external_id, key))
                return
        except psycopg.OperationalError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"award {key} never went through")


async def test_a_postgresql_restart_under_load_loses_nothing(conn, pool, db_url, sandbox, server, fast_retries):
    total = 60
    started(conn, sandbox, *(str(2000 + i) for i in range(total)))
    async with running(pool, db_url, await telegram_handler(sandbox, pool)) as listener:
        async def writer():
            for i in range(total):
                await award_until_done(db_url, str(2000 + i), f"restart-{i}")
                await asyncio.sleep(0.02)

        writing = asyncio.create_task(writer())
        await eventually(lambda: len(sandbox.telegram.messages) >= 10, timeout=20)
        await asyncio.to_thread(server.restart)
        await writing
        with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as after:
            def settled():
                return after.execute("SELECT count(*) FILTER (WHERE status = 'done') AS done, count(*) AS n "
                                     "FROM xp.deliveries").fetchone()
            await eventually(lambda: settled() == {"done": total, "n": total}, timeout=60)
            assert after.execute("SELECT count(*) AS n FROM xp.ledger WHERE kind = 'xp'").fetchone()["n"] == total
            assert_consistent(after)
    per_chat = Counter(m.chat_id for m in sandbox.telegram.messages)
    print(f"\nrestart under load: {total} deliveries done, {sum(per_chat.values()) - total} duplicate(s), "
          f"{listener.stats['reconnects']} reconnect(s)")
    assert len(per_chat) == total
    assert listener.stats["reconnects"] >= 1


def test_killed_listeners_and_a_flaky_platform_lose_nothing(conn, db_url):
    people = 80
    conn.execute("UPDATE xp.settings SET value = '0.05' WHERE key = 'delivery.backoff_base_seconds'")
    conn.execute("UPDATE xp.settings SET value = '0.5' WHERE key = 'delivery.backoff_cap_seconds'")
    conn.execute("UPDATE xp.settings SET value = '10000' WHERE key = 'telegram.messages_per_second'")
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'telegram.chat_interval_seconds'")
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s), (%s, 3, %s)", (G1, R2, G1, R3))
    rates = {"429": 0.05, "5xx": 0.10, "slow": 0.05, "403": 0.03}
    with SandboxThread() as box:
        box.discord.add_guild(G1, [R2, R3])
        for i in range(people):
            code = conn.execute("SELECT xp.create_link_code('telegram', %s) AS c", (str(3000 + i),)).fetchone()["c"]
            conn.execute("SELECT xp.redeem_link_code('discord', %s, %s)", (str(9000 + i), code))
            box.discord.add_member(G1, str(9000 + i))
            box.telegram.open_chat(str(3000 + i))
        conn.execute("DELETE FROM xp.deliveries")
        for platform in ("discord", "telegram"):
            box.faults.randomize(platform, rates, seed=11, delay=0.3)
        env = {"XPSYNC_LEASE_SECONDS": "2", "XPSYNC_BATCH_SIZE": "10"}
        procs = [listen(t, db_url, box, **env) for t in ("discord", "discord", "telegram", "telegram")]
        kills = 0
        try:
            for i in range(people):
                conn.execute("SELECT xp.award_xp('telegram', %s, %s, 'quiz', %s)",
                             (str(3000 + i), 300 if i % 2 else 800, f"flaky-{i}"))
            for _ in range(2):  # kill every instance twice, mid-work, and start it again
                time.sleep(1.0)
                for n, proc in enumerate(procs):
                    proc.kill()
                    proc.communicate()
                    kills += 1
                    procs[n] = listen(("discord", "discord", "telegram", "telegram")[n], db_url, box, **env)
            wait_until(lambda: conn.execute("SELECT count(*) AS n FROM xp.deliveries WHERE status = 'pending'"
                                            ).fetchone()["n"] == 0, 120)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.communicate()
        converged = conn.execute("SELECT count(*) AS n FROM xp.deliveries WHERE target = 'discord' "
                                 "AND status = 'done' AND last_error IS NULL").fetchone()["n"]
        paused = conn.execute("SELECT xp.stats() -> 'paused_guilds' AS p").fetchone()["p"]
        outcomes = conn.execute("SELECT target, status, count(*) AS n FROM xp.deliveries GROUP BY 1, 2 ORDER BY 1, 2"
                                ).fetchall()
        failed = conn.execute("SELECT target, last_error FROM xp.deliveries WHERE status <> 'done'").fetchall()
        injected = dict(box.faults.injected)
        messages = Counter(m.chat_id for m in box.telegram.messages)
        roles_ok = sum(box.discord.roles_of(G1, str(9000 + i)) == ({R2} if i % 2 else {R3})
                       for i in range(people))
    print(f"\n{kills} SIGKILLs; faults injected {injected}; outcomes "
          + ", ".join(f"{o['target']} {o['status']} {o['n']}" for o in outcomes)
          + f"; telegram duplicates {sum(messages.values()) - len(messages)}")
    assert {(o["target"], o["status"]) for o in outcomes} <= {(t, s) for t in ("discord", "telegram")
                                                             for s in ("done", "failed")}
    assert sum(o["n"] for o in outcomes) == 2 * people
    for f in failed:  # permanent failures only, each with its reason
        assert "403" in f["last_error"], f
    # every done Discord delivery left the right roles, but those done while the random 403s had paused
    # the guild (its circuit breaker), which say so and wait for xp.resume_guild's resync
    assert roles_ok >= converged
    if converged < sum(o["n"] for o in outcomes if (o["target"], o["status"]) == ("discord", "done")):
        assert [g["guild_id"] for g in paused] == [G1]
