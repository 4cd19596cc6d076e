"""The xpsync command against the embedded server and against DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from xpsync.embedded import EmbeddedServer
from xpsync.migrate import migrations


def xpsync(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        [sys.executable, "-m", "xpsync", *args],
        env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.mark.slow
def test_embedded_server_from_migrate_to_stop(server_home):
    env = {"XPSYNC_HOME": str(server_home / "home")}
    try:
        first = xpsync("migrate", env=env)
        assert first.returncode == 0, first.stderr
        ids = [m.id for m in migrations()]
        assert first.stdout.strip() == f"applied {len(ids)} migration(s): {', '.join(ids)}; functions: refreshed"
        assert ids[0] == "0001_baseline" and "schema" not in ids
        again = xpsync("migrate", env=env)
        assert (again.returncode, again.stdout.strip()) == (0, "applied 0 migration(s); functions: up to date")

        url = xpsync("db", "url", env=env)
        assert url.stdout.startswith("postgresql://postgres@/xpsync?host=")

        award = xpsync("db", "psql", "-c", "select * from xp.award_xp('telegram','42',100,'hello','k1')", env=env)
        assert award.returncode == 0, award.stderr
        assert "100 |     0 |        1 |        1 | f            |            0 | t" in award.stdout

        bad = xpsync("db", "psql", "-v", "ON_ERROR_STOP=1", "-c",
                     "select * from xp.award_xp('telegram','42',10000000,'hello','k2')", env=env)
        assert bad.returncode != 0
        assert "amount 10000000 is out of range" in bad.stderr

        stop = xpsync("db", "stop", env=env)
        assert stop.stdout.strip() == "stopped"
        assert not EmbeddedServer(server_home / "home").is_running()
        assert xpsync("db", "stop", env=env).stdout.startswith("no embedded server is running")
    finally:
        EmbeddedServer(server_home / "home").stop()


def test_migrate_uses_database_url_and_starts_no_server(db_url, tmp_path):
    result = xpsync("migrate", env={"DATABASE_URL": db_url, "XPSYNC_HOME": str(tmp_path)})
    assert (result.returncode, result.stdout.strip()) == (0, "applied 0 migration(s); functions: up to date")
    assert not (tmp_path / "pgdata").exists()


def test_db_stop_with_database_url_set_is_one_clear_line(db_url):
    result = xpsync("db", "stop", env={"DATABASE_URL": db_url})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xpsync: DATABASE_URL is set, so xpsync runs no embedded server; unset it to use one"
    )


def test_an_unreachable_database_is_one_line_without_a_password(tmp_path):
    url = f"postgresql://me:hunter2@/xpsync?host={tmp_path}&connect_timeout=2"
    result = xpsync("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xpsync: cannot reach the database:")
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["bogus"], ["migrate", "--nope"], ["db"]])
def test_usage_errors_exit_2(args):
    result = xpsync(*args)
    assert result.returncode == 2
    assert "usage: xpsync" in result.stderr


@pytest.mark.parametrize("command", ["listen", "bot"])
@pytest.mark.parametrize(("target", "variable"), [("discord", "DISCORD_TOKEN"), ("telegram", "TELEGRAM_TOKEN")])
def test_listen_or_bot_without_its_token_is_one_line_naming_the_variable(command, target, variable, tmp_path):
    result = xpsync(command, target, env={"XPSYNC_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"xpsync: {variable} is not set: export {variable} with "
        + ("the Discord bot token" if target == "discord" else "the Telegram bot token from @BotFather")
    ]
    assert not (tmp_path / "pgdata").exists()  # it failed before starting anything


def test_listen_with_a_rejected_token_says_so_without_showing_it(db_url):
    from xpsync.sandbox import SandboxThread

    with SandboxThread() as box:
        env = {**box.env(), "DATABASE_URL": db_url, "DISCORD_TOKEN": "wrong-secret-token"}
        result = xpsync("listen", "discord", env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "xpsync: DISCORD_TOKEN was rejected by Discord: reset it in the Developer Portal")
    assert "wrong-secret-token" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("target", "variable", "line"), [
    ("discord", "DISCORD_TOKEN", "xpsync: DISCORD_TOKEN was rejected by Discord: reset it in the Developer Portal"),
    ("telegram", "TELEGRAM_TOKEN", "xpsync: TELEGRAM_TOKEN was rejected by Telegram: check it with @BotFather"),
])
def test_a_bot_with_a_rejected_token_says_so_without_showing_it(db_url, target, variable, line):
    from xpsync.sandbox import SandboxThread

    with SandboxThread() as box:
        env = {**box.env(), "DATABASE_URL": db_url, variable: "999:wrong-secret-token"}
        result = xpsync("bot", target, env=env, timeout=90)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == line
    assert "wrong-secret-token" not in result.stderr
