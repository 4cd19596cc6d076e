"""Commands that need the schema say so in one line on a database that is not migrated (up to this
release), instead of `schema "xp" does not exist`, and touch nothing."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import scratch_database
from tests.xpsync.test_cli import xpsync
from xpsync.migrate import MigrationRefused, migrations, require_migrated

COMMANDS = [
    ["stats"],
    ["reconcile"],
    ["cleanup"],
    ["export", "csv"],
    ["import", "csv", "{file}"],
    ["listen", "discord"],
    ["bot", "telegram"],
]


@pytest.fixture
def empty_url(server):
    with scratch_database(server.url("postgres"), "xpsync_not_migrated") as url:
        yield url


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_command_on_an_empty_database_says_to_migrate(empty_url, tmp_path, command):
    rows = tmp_path / "rows.csv"
    rows.write_text("platform,external_id,xp\ndiscord,1,10\n")
    env = {"DATABASE_URL": empty_url, "DISCORD_TOKEN": "x", "TELEGRAM_TOKEN": "1:x"}
    result = xpsync(*[a.format(file=rows) for a in command], env=env)
    assert (result.returncode, result.stderr.splitlines()) == (
        2, [f"xpsync: the database at {empty_url} is not migrated: run `xpsync migrate`"])
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                            "('pg_catalog', 'information_schema')").fetchone() == (0,)


def test_a_pending_migration_is_named(db_url, conn):
    last = migrations()[-1].id
    conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (last,))
    with pytest.raises(MigrationRefused) as refused:
        require_migrated(db_url)
    assert str(refused.value) == (
        f"the database at {db_url} is not migrated up to this xpsync ({last} pending): run `xpsync migrate`")
    result = xpsync("stats", env={"DATABASE_URL": db_url})
    assert (result.returncode, result.stderr.splitlines()) == (2, [f"xpsync: {refused.value}"])


def test_a_migrated_database_passes(db_url):
    assert require_migrated(db_url) == db_url
