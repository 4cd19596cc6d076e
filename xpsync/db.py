"""Where the database is, and the one connection pool a process uses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .embedded import EmbeddedServer
from .settings import Settings

log = logging.getLogger(__name__)


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the embedded server, started if needed."""
    if settings.database_url is not None:
        return settings.database_url.reveal()
    return EmbeddedServer(settings.home).start()


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname)))


def as_role(url: str, role: str) -> str:
    """The same URL, every session of it acting as `role` (SET ROLE at connection start)."""
    return url + ("&" if "?" in url else "?") + "options=" + quote(f"-c role={role}")


def masked(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":********@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def first(row: Sequence[Any] | None) -> Any:
    """The first column of the row a query must return (an aggregate, a function's result)."""
    if row is None:
        raise LookupError("the query returned no row")
    return row[0]


async def fetch_value(conn: AsyncConnection[Any], query: str, params: Sequence[Any] = ()) -> Any:
    """The one value a query returns (a count, a function's result)."""
    cur = await conn.execute(query, params)
    return first(await cur.fetchone())


def create_pool(url: str, *, min_size: int = 1, max_size: int = 8, name: str = "xpsync") -> AsyncConnectionPool:
    """A pool that is not open yet: the caller opens it at start-up (fail fast) and closes it on exit."""
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        kwargs={"autocommit": True, "application_name": name},
    )


async def recover(pool: AsyncConnectionPool) -> None:
    """After a lost connection: drop every dead idle connection at once and refill.

    (A per-checkout check would back off a second or more per dead connection.)
    """
    try:
        await pool.check()
    except Exception as exc:  # noqa: BLE001 - the server may still be down; the caller retries
        log.info("pool check failed: %s", exc)
