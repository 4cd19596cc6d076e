"""sql/schema.sql is what the migrations produce, and migrating is idempotent."""

from __future__ import annotations

from pathlib import Path

from xpsync.migrate import migrate
from xpsync.schema import dump, fresh_dump

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema.sql"


def test_schema_sql_matches_a_fresh_migration(server):
    produced = fresh_dump(server.url("postgres"), server.bin_dir / "pg_dump", scratch="xpsync_schema_check")
    assert produced == SCHEMA.read_text(), "sql/schema.sql is stale: regenerate it with `xpsync db schema`"


def test_migrating_twice_changes_nothing(db_url, server):
    before = dump(db_url, server.bin_dir / "pg_dump")
    assert migrate(db_url) == []
    assert dump(db_url, server.bin_dir / "pg_dump") == before
