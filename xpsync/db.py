"""Where the database is, and the one connection pool a process uses."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit, urlunsplit

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
