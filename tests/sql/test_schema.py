"""sql/schema.sql is what migrating an empty database produces, it loads on its own,
and migrating again changes nothing (the function refresh included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import scratch_database
from xpsync.migrate import MigrationRefused, migrate
from xpsync.schema import dump, fresh_dump

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema.sql"


def test_schema_sql_matches_a_fresh_migration(server):
    produced = fresh_dump(server.url("postgres"), server.bin_dir / "pg_dump", scratch="xpsync_schema_check")
    assert produced == SCHEMA.read_text(), "sql/schema.sql is stale: regenerate it with `xpsync db schema`"


def test_migrating_twice_changes_nothing(db_url, server, conn):
    before = dump(db_url, server.bin_dir / "pg_dump")
    recorded = conn.execute("SELECT files, catalog, applied_at FROM xp.schema_functions").fetchone()
    again = migrate(db_url)
    assert again.applied == () and not again.functions.refreshed
    assert str(again) == "applied 0 migration(s); functions: up to date"
    assert dump(db_url, server.bin_dir / "pg_dump") == before
    assert conn.execute("SELECT files, catalog, applied_at FROM xp.schema_functions").fetchone() == recorded


@pytest.fixture
def empty_db(server):
    with scratch_database(server.url("postgres"), "xpsync_schema_load") as url:
        yield url


def test_schema_sql_loads_on_its_own_and_migrate_refuses_the_result(server, empty_db):
    loaded = subprocess.run(
        [str(server.bin_dir / "psql"), "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-q", "-f", str(SCHEMA),
         "--dbname", empty_db],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert dump(empty_db, server.bin_dir / "pg_dump") == _body(SCHEMA.read_text())
    with pytest.raises(MigrationRefused, match=r"has an xp schema that no `xpsync migrate` recorded"):
        migrate(empty_db)


def _body(schema: str) -> str:
    """schema.sql without its header: the dump itself."""
    return schema[schema.index("CREATE SCHEMA xp;"):]
