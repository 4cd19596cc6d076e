"""Each unit's command, with its own environment file, does its work as its own login role.

The login roles are made by the SQL of docs/operations.md, as an operator would; the
units' commands then run with the environment systemd would give them (tests/deploy/units.py),
their DATABASE_URL pointing at this test's database under the role the file names.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.deploy.units import Service, base_env, role_of, run, start
from tests.helpers import balances_match_ledger, call, scalar

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
LOGIN = re.compile(r"CREATE ROLE (\w+) +LOGIN IN ROLE (\w+)")
LISTENER = Service("xpsync-listener@.service", "discord")
BOT = Service("xpsync-bot@.service", "telegram")
RECONCILE = Service("xpsync-reconcile.service", None)
CLEANUP = Service("xpsync-cleanup.service", None)
WEB = Service("xpsync-web.service", None)
# snowflake-shaped ids, as Discord has them
GUILD, MEMBER, ROLE = "400000000000000001", "400000000000000002", "400000000000000003"


def documented_logins() -> dict[str, str]:
    """login role -> the NOLOGIN role it is in, from the one SQL block of the docs that makes them."""
    blocks = [b for b in re.findall(r"```sql\n(.*?)```", OPERATIONS.read_text(), re.S) if "CREATE ROLE" in b]
    assert len(blocks) == 1, "docs/operations.md should make the login roles in one SQL block"
    statements = [s.strip() for s in blocks[0].split(";") if s.strip()]
    logins = {}
    for statement in statements:
        found = LOGIN.fullmatch(statement)
        assert found, f"not a login role as the tests expect: {statement!r}"
        logins[found.group(1)] = found.group(2)
    return logins


@pytest.fixture
def logins(conn) -> Iterator[dict[str, str]]:
    """The documented login roles (those whose NOLOGIN role this schema has), made as the docs say."""
    made: dict[str, str] = {}
    for login, group in documented_logins().items():
        if scalar(conn, "SELECT count(*) FROM pg_roles WHERE rolname = %s", group):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
            conn.execute(f"CREATE ROLE {login} LOGIN IN ROLE {group}")
            made[login] = group
    assert {"xp_bot", "xp_listener", "xp_admin"} <= set(made.values())
    yield made
    for login in made:
        conn.execute(f"DROP ROLE {login}")


def environment(service: Service, db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**base_env(tmp_path), **service.environment(db_url), **extra}


@pytest.mark.parametrize(("service", "group"), [
    (LISTENER, "xp_listener"), (Service("xpsync-listener@.service", "telegram"), "xp_listener"),
    (BOT, "xp_bot"), (Service("xpsync-bot@.service", "discord"), "xp_bot"),
    (RECONCILE, "xp_admin"), (CLEANUP, "xp_admin"), (WEB, "xp_web"),
])
def test_each_environment_file_logs_in_as_a_documented_role_of_its_kind(logins, service, group):
    assert logins[role_of(service.environment()["DATABASE_URL"])] == group


def test_the_timers_reconcile_and_clean_up_as_the_admin_files_role(conn, db_url, logins, tmp_path):
    call(conn, "award_xp", "telegram", "1", 100, "seed", "k1")
    conn.execute("UPDATE xp.users SET xp = xp + 7")  # drift for reconcile to find and fix
    assert balances_match_ledger(conn) != []

    reconciled = run(RECONCILE, environment(RECONCILE, db_url, tmp_path))
    assert reconciled.returncode == 0, reconciled.stderr
    assert "1 finding(s), all fixed" in reconciled.stdout
    assert balances_match_ledger(conn) == []

    cleaned = run(CLEANUP, environment(CLEANUP, db_url, tmp_path))
    assert cleaned.returncode == 0, cleaned.stderr
    assert re.fullmatch(r"removed \d+ row\(s\) older than 30 days", cleaned.stdout.strip())


@pytest.mark.parametrize("other", [LISTENER, BOT], ids=["listener.env", "bot.env"])
@pytest.mark.parametrize("timer", [RECONCILE, CLEANUP], ids=["reconcile", "cleanup"])
def test_another_roles_file_cannot_do_the_timers_work(db_url, logins, tmp_path, other, timer):
    """Why one file for every unit does not work: the timers' commands with another role's login."""
    env = {**environment(timer, db_url, tmp_path), "DATABASE_URL": other.environment(db_url)["DATABASE_URL"]}
    result = run(timer, env)
    assert result.returncode == 1
    assert "permission denied for function" in result.stderr


def wait_for(predicate: Callable[[], object], process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, f"exited {process.returncode}"
        assert time.monotonic() < deadline, f"not within {timeout}s"
        time.sleep(0.1)


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def sessions_of(conn: psycopg.Connection, application: str) -> set[str]:
    """The login roles of the process's database sessions (its pool names them)."""
    rows = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = %s", (application,))
    return {r["usename"] for r in rows}


def test_the_discord_listener_unit_claims_and_delivers_as_the_listener_role(conn, db_url, logins, tmp_path):
    from xpsync.sandbox import SandboxThread

    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (GUILD, ROLE))
    call(conn, "award_xp", "discord", MEMBER, 300, "seed", "k1")  # rank 2: a role to give
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'discord'") > 0
    with SandboxThread() as box:
        box.discord.add_guild(GUILD, [ROLE])
        box.discord.add_member(GUILD, MEMBER, [])
        env = environment(LISTENER, db_url, tmp_path, DISCORD_TOKEN=box.discord.token,
                          DISCORD_API_BASE=box.discord_api_base, XPSYNC_POLL_SECONDS="0.2")
        log = tmp_path / "stderr"
        with log.open("w") as stderr:
            listener = start(LISTENER, env, stderr)
            try:
                wait_for(lambda: scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE status <> 'done'") == 0,
                         listener)
                assert box.discord.roles_of(GUILD, MEMBER) == {ROLE}
                assert sessions_of(conn, "xpsync-listen-discord") == {role_of(env["DATABASE_URL"])}
            finally:
                status = stop(listener)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_the_bot_role_calls_what_the_bots_call(db_url, logins):
    url = BOT.environment(db_url)["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as bot:
        assert call(bot, "award_xp", "telegram", "7", 10, "chat", "bot:1", "Ann")["applied"]
        assert call(bot, "award_coins", "telegram", "7", 5, "gift", "bot:2")["applied"]
        assert call(bot, "claim_daily", "telegram", "7")["applied"]
        assert call(bot, "record_message", "telegram", "7", "-100", "1", 20)["applied"]
        assert call(bot, "record_voice", "discord", "8", "s1", 120)["applied"]
        code = scalar(bot, "SELECT xp.create_link_code('telegram', '7')")
        assert scalar(bot, "SELECT xp.redeem_link_code('discord', '8', %s)", code) is not None
        assert scalar(bot, "SELECT xp.profile('discord', '8')")["xp"] > 0
        assert bot.execute("SELECT * FROM xp.leaderboard(10, 'week')").fetchall()
        assert scalar(bot, "SELECT xp.request_resync('discord', '8')") >= 0
        assert scalar(bot, "SELECT xp.set_notify('telegram', '7', false)") is False
        assert scalar(bot, "SELECT xp.start_game('telegram', '7', 'guess')") is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bot.execute("SELECT * FROM xp.users")


def test_the_telegram_bot_unit_starts_as_the_bot_role(conn, db_url, logins, tmp_path):
    from xpsync.sandbox import SandboxThread

    log = tmp_path / "stderr"
    with SandboxThread() as box, log.open("w") as stderr:
        env = environment(BOT, db_url, tmp_path, TELEGRAM_TOKEN=box.telegram.token,
                          TELEGRAM_API_BASE=box.telegram_api_base)
        bot = start(BOT, env, stderr)
        try:
            wait_for(lambda: "telegram bot @xpsync_sandbox_bot started" in log.read_text(), bot)
            assert sessions_of(conn, "xpsync-bot-telegram") == {role_of(env["DATABASE_URL"])}
            time.sleep(1)  # from getMe to polling, where SIGTERM is a clean stop
        finally:
            status = stop(bot)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_the_web_unit_serves_pages_and_cards_as_the_web_role_under_its_confinement(conn, db_url, logins, tmp_path):
    """uvicorn, Jinja2 and Pillow under the unit's system-call filter and MemoryDenyWriteExecute."""
    import urllib.request

    from xpsync.web.serve import free_port

    uid = call(conn, "award_xp", "telegram", "1", 300, "seed", "k1", "Ann")["user_id"]
    port = free_port()
    env = environment(WEB, db_url, tmp_path, XPSYNC_WEB_SECRET="unit-test-secret-0123456789",
                      XPSYNC_WEB_BIND=f"127.0.0.1:{port}", XPSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}")

    def get(path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()

    def answers() -> bool:
        try:
            return get("/healthz")[0] == 200
        except OSError:
            return False

    log = tmp_path / "stderr"
    with log.open("w") as stderr:
        web = start(WEB, env, stderr)
        try:
            wait_for(answers, web)
            status, board = get("/")
            assert status == 200 and b"Ann" in board
            status, card = get(f"/u/{uid}/card.png")
            assert status == 200 and card[:4] == b"\x89PNG"
            assert sessions_of(conn, "xpsync-web") == {role_of(env["DATABASE_URL"])} == {"xpsync_web"}
        finally:
            status = stop(web)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()
