"""yoyo migrations from sql/: the source of truth for the schema and its functions."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from yoyo import get_backend, read_migrations
from yoyo.migrations import MigrationList

log = logging.getLogger(__name__)


def migrations_dir() -> Path:
    """sql/ of a checkout (editable install), or the copy shipped inside the package."""
    here = Path(__file__).resolve().parent
    packaged = here / "sql"
    return packaged if packaged.is_dir() else here.parent / "sql"


# sql/ also holds the generated schema.sql: only NNNN_reason.sql files are migrations.
_MIGRATION_ID = re.compile(r"^\d{4}_\w+$")


def migrations() -> MigrationList:
    found = read_migrations(str(migrations_dir()))
    return MigrationList([m for m in found if _MIGRATION_ID.match(m.id)])


def yoyo_url(url: str) -> str:
    """yoyo picks psycopg 3 by the postgresql+psycopg:// scheme."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def migrate(url: str) -> list[str]:
    """Apply every pending migration; return the ids applied (empty when up to date)."""
    backend = get_backend(yoyo_url(url))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations())
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()


def pending(url: str) -> list[str]:
    """The ids of migrations not applied yet."""
    backend = get_backend(yoyo_url(url))
    try:
        return [m.id for m in backend.to_apply(migrations())]
    finally:
        backend.connection.close()
