"""Operator changes reach running listeners: settings within a second, thresholds with roles."""

from __future__ import annotations

import time

from tests.helpers import call
from tests.listener.conftest import D1, G1, R2, VIP, discord_handler, eventually, running, telegram_handler


async def test_a_settings_change_reaches_a_running_listener(conn, pool, db_url, sandbox):
    handler = await telegram_handler(sandbox, pool)
    async with running(pool, db_url, handler) as listener:
        await eventually(lambda: listener.settings)
        conn.execute("UPDATE xp.settings SET value = '7' WHERE key = 'telegram.messages_per_second'")
        changed = time.monotonic()
        # woken by NOTIFY xp_config, not by a timer: the bound here is only a guard against hanging
        await eventually(lambda: abs(handler.gaps["any"] - 1 / 7) < 1e-9, timeout=10)
        print(f"\nsettings change taken up after {(time.monotonic() - changed) * 1000:.0f} ms")
        assert listener.settings["telegram.messages_per_second"] == 7


async def test_a_threshold_change_moves_people_and_their_roles(conn, pool, db_url, community):
    call(conn, "award_xp", "telegram", "t1", 150, "chat", "k1")
    async with running(pool, db_url, await discord_handler(community, pool)):
        await eventually(lambda: conn.execute("SELECT count(*) AS n FROM xp.deliveries "
                                              "WHERE status = 'pending' AND target = 'discord'").fetchone()["n"] == 0)
        assert community.discord.roles_of(G1, D1) == {VIP}
        conn.execute("UPDATE xp.ranks SET min_xp = 100 WHERE id = 2")
        await eventually(lambda: community.discord.roles_of(G1, D1) == {VIP, R2})
    assert conn.execute("SELECT rank_id FROM xp.users").fetchone()["rank_id"] == 2


def heartbeat_of(conn, instance):
    return conn.execute("SELECT * FROM xp.admin_heartbeats() WHERE instance = %s", (instance,)).fetchone()


async def test_a_running_listener_beats_and_says_which_change_it_took_up(conn, pool, db_url, sandbox):
    handler = await telegram_handler(sandbox, pool)
    async with running(pool, db_url, handler, owner="telegram@test:1") as listener:
        first = await eventually(lambda: heartbeat_of(conn, "telegram@test:1"))
        assert (first["kind"], first["state"]) == ("listener:telegram", "running")
        conn.execute("UPDATE xp.settings SET value = '9' WHERE key = 'telegram.messages_per_second'")
        version = conn.execute("SELECT xp.config_version() AS v").fetchone()["v"]
        # woken by NOTIFY xp_config: the new settings and the heartbeat that says so
        beat = await eventually(lambda: (b := heartbeat_of(conn, "telegram@test:1"))["config_version"] == version and b)
        assert listener.settings["telegram.messages_per_second"] == 9
        assert beat["config_version"] == version
        # work is reported within a second: a notice delivered
        call(conn, "award_xp", "telegram", "t9", 300, "chat", "k1")  # a rank-up: a notice
        done = await eventually(lambda: (b := heartbeat_of(conn, "telegram@test:1"))["handled"] >= 1 and b)
        assert done["last_batch"] == 1 and done["last_batch_at"] is not None
    assert heartbeat_of(conn, "telegram@test:1")["state"] == "stopped"
