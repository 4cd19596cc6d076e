"""Real PostgreSQL for every test: one embedded server per run, a migrated
template database, and a fresh clone of it per test (pytest-postgresql)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.rows import dict_row
from pytest_postgresql import factories

from xpsync.embedded import EmbeddedServer
from xpsync.migrate import migrate
from xpsync.settings import ENV_VARS

# The host's configuration must never leak into a test.
for _name in ENV_VARS:
    os.environ.pop(_name, None)

_server: EmbeddedServer | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Start the run's server and point pytest-postgresql at its socket."""
    global _server
    home = Path(tempfile.mkdtemp(prefix="xpsync-test-"))
    _server = EmbeddedServer(home)
    # the watchdog stops the server and removes it even if pytest is killed
    _server.start(watch_pid=os.getpid(), delete_on_exit=True)
    with psycopg.connect(_server.url("postgres"), autocommit=True) as conn:
        # durability is not under test; speed is welcome
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    config.option.postgresql_host = str(_server.pgdata)
    config.option.postgresql_port = "5432"
    config.option.postgresql_user = "postgres"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()
        shutil.rmtree(_server.home, ignore_errors=True)


def url_for(host: str, port: int | str, user: str, dbname: str) -> str:
    return f"postgresql://{user}@/{dbname}?host={quote(str(host), safe='/')}&port={port}"


def load_schema(host: str, port: int, user: str, dbname: str, **_: object) -> None:
    migrate(url_for(host, port, user, dbname))


postgresql_xp = factories.postgresql_noproc(dbname="xpsync_test", load=[load_schema])
postgresql = factories.postgresql("postgresql_xp")


@pytest.fixture
def server() -> EmbeddedServer:
    assert _server is not None
    return _server


@pytest.fixture
def db_url(postgresql: psycopg.Connection) -> str:
    """URL of this test's own database (a clone of the migrated template)."""
    info = postgresql.info
    return url_for(info.host, info.port, info.user, info.dbname)


@pytest.fixture
def conn(postgresql: psycopg.Connection) -> psycopg.Connection:
    """An autocommit connection to this test's database, rows as dicts."""
    postgresql.autocommit = True
    postgresql.row_factory = dict_row  # type: ignore[assignment]
    return postgresql


@pytest.fixture
def connect(db_url: str) -> Iterator:
    """Open more connections to this test's database; all are closed afterwards."""
    opened: list[psycopg.Connection] = []

    def _connect(**kwargs: object) -> psycopg.Connection:
        c = psycopg.connect(db_url, autocommit=True, row_factory=dict_row, **kwargs)
        opened.append(c)
        return c

    yield _connect
    for c in opened:
        c.close()
