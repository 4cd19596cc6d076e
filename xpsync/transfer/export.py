"""`xpsync export csv`: every account, one row per source it holds something from, in the columns the
CSV import reads (xp.export_accounts), every text cell formula-safe. Importing the file into the
database it came from changes nothing; into another one, it sets each account's totals from each
source, so doing it again changes nothing there either."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import psycopg

from .rows import formula_safe
from .spreadsheet import COLUMNS


def export_csv(url: str) -> Iterator[str]:
    """platform,external_id,xp,coins,display_name,source for every account and source."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        for platform, external, xp, coins, name, source in conn.cursor().stream(
                "SELECT platform, external_id, xp, coins, display_name, source FROM xp.export_accounts()"):
            writer.writerow([platform, formula_safe(external), xp, coins, formula_safe(name or ""),
                             formula_safe(source)])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
