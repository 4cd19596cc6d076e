"""sql/schema.sql: the schema that all migrations produce, as a stripped pg_dump."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from .db import with_database
from .migrate import migrate

# pg_dump lines that say nothing about the schema, or change on every run
# (PostgreSQL 18 brackets a dump in \restrict/\unrestrict with a random key).
_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*)$")


def strip(dump: str) -> str:
    lines = [line.rstrip() for line in dump.splitlines() if not _NOISE.match(line)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text + "\n"


def dump(url: str, pg_dump: Path) -> str:
    """The stripped schema-only dump of the xp schema at `url`."""
    result = subprocess.run(  # noqa: S603
        [str(pg_dump), "--schema-only", "--schema=xp", "--no-owner", "--dbname", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
    return strip(result.stdout)


def fresh_dump(url: str, pg_dump: Path, scratch: str = "xpsync_schema_scratch") -> str:
    """Migrate an empty scratch database on the server at `url` and dump it."""
    scratch_url = with_database(url, scratch)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(scratch)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch)))
    try:
        migrate(scratch_url)
        return dump(scratch_url, pg_dump)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
