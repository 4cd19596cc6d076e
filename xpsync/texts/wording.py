"""The operators' wording of the texts (xp.texts, edited in the admin panel): one table per process,
read at start and again whenever `xp_config` says the texts changed, so that `say()` speaks it
within a second. The code's words (en.py, ru.py) stand for every text nobody reworded.

The database refuses a body that would not render (unknown placeholders, stray braces); a body
that still fails to render here (a caller passing fewer values than the text's placeholders) is
logged and the code's words are said instead."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

log = logging.getLogger(__name__)

# the payload of xp_config that says the texts changed ("*": anything may have, after a reconnect)
TEXTS_CHANGED = frozenset({"texts", "*"})


class Wording:
    """What operators reworded: (language, key) → body."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], str] = {}

    def replace(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._bodies = {(r["language"], r["key"]): r["body"] for r in rows}

    def render(self, language: str, key: str, values: Mapping[str, Any]) -> str | None:
        """The reworded text filled with `values`, or None (not reworded, or it does not render)."""
        body = self._bodies.get((language, key))
        if body is None:
            return None
        try:
            return body.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            log.warning("reworded text %s/%s does not render (%s): the default is said", key, language, exc)
            return None

    def __len__(self) -> int:
        return len(self._bodies)


WORDING = Wording()


async def load(conn: psycopg.AsyncConnection[Any], wording: Wording = WORDING) -> int:
    """Read the operators' wording again (xp.texts()); returns how many texts are reworded."""
    async with conn.cursor(row_factory=dict_row) as cur:  # whatever rows the connection makes by default
        await cur.execute("SELECT key, language, body FROM xp.texts()")
        wording.replace(await cur.fetchall())
    return len(wording)
