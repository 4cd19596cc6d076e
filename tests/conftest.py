"""Real PostgreSQL for every test that asks for a database: one embedded server per run, a
migrated template database, and a fresh clone of it per test (pytest-postgresql).

The server starts on first use, so a run of tests/unit (no database) starts none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
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


def _start_server(config: pytest.Config) -> EmbeddedServer:
    """Start the run's server and point pytest-postgresql at its socket."""
    home = Path(tempfile.mkdtemp(prefix="xpsync-test-"))
    server = EmbeddedServer(home)
    # the watchdog stops the server and removes it even if pytest is killed
    server.start(watch_pid=os.getpid(), delete_on_exit=True)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        # durability is not under test; speed is welcome
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    config.option.postgresql_host = str(server.pgdata)
    config.option.postgresql_port = "5432"
    config.option.postgresql_user = "postgres"
    return server


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()
        shutil.rmtree(_server.home, ignore_errors=True)


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> EmbeddedServer:
    """The run's embedded server, started by the first test that needs a database."""
    global _server
    if _server is None:
        _server = _start_server(request.config)
    return _server


@pytest.fixture
def server_home() -> Iterator[Path]:
    """An empty directory for an embedded server of the test's own, outside pytest's basetemp: as root
    the server makes every parent of its data world-readable, while pytest keeps its temporary root
    private (0700) and tightens it again whenever another pytest session starts on the machine."""
    home = Path(tempfile.mkdtemp(prefix="xpsync-test-home-"))
    yield home
    EmbeddedServer(home).stop()
    shutil.rmtree(home, ignore_errors=True)


def url_for(host: str, port: int | str, user: str, dbname: str) -> str:
    return f"postgresql://{user}@/{dbname}?host={quote(str(host), safe='/')}&port={port}"


def load_schema(host: str, port: int, user: str, dbname: str, **_: object) -> None:
    migrate(url_for(host, port, user, dbname))


_template = factories.postgresql_noproc(dbname="xpsync_test", load=[load_schema])


@pytest.fixture(scope="session")
def postgresql_xp(server: EmbeddedServer, _template: Any) -> Any:
    """The migrated template database on the run's server (the server starts first)."""
    return _template


postgresql = factories.postgresql("postgresql_xp")


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
def connect(db_url: str) -> Iterator[Callable[..., psycopg.Connection]]:
    """Open more connections to this test's database; all are closed afterwards."""
    opened: list[psycopg.Connection] = []

    def _connect(**kwargs: Any) -> psycopg.Connection:
        c = psycopg.connect(db_url, autocommit=True, row_factory=dict_row, **kwargs)
        opened.append(c)
        return c

    yield _connect
    for c in opened:
        c.close()
