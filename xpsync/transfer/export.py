"""`xpsync export csv`: one line per person, in the columns the CSV import reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import psycopg

from .spreadsheet import COLUMNS


def export_csv(url: str) -> Iterator[str]:
    """One line per person (their oldest account): platform,external_id,xp,coins,display_name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.cursor().stream(
            """
            SELECT DISTINCT ON (u.id) a.platform, a.external_id, u.xp, u.coins, u.display_name
              FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id
             WHERE u.forgotten_at IS NULL
             ORDER BY u.id, a.id
            """
        )
        for record in rows:
            writer.writerow(record)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
