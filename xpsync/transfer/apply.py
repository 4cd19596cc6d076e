"""An import's preview (how many people land in each rank) and its application through xp.import_xp."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import psycopg
from rich.progress import Progress

from ..console import out, table
from .rows import Row


def preview(conn: psycopg.Connection[Any], rows: list[Row]) -> list[tuple[str, int]]:
    """How many imported accounts land in each rank (by the XP the file gives each, all sources together)."""
    ranks = conn.execute("SELECT name, min_xp FROM xp.ranks ORDER BY min_xp DESC").fetchall()
    totals: defaultdict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        totals[row.platform, row.external_id] += row.xp
    landed = Counter(next((name for name, floor in ranks if xp >= floor), ranks[-1][0]) for xp in totals.values())
    return [(name, landed[name]) for name, _ in reversed(ranks) if landed[name]]


def run(url: str, rows: list[Row], *, source: str, dry_run: bool) -> int:
    """Print the preview; unless a dry run, apply every row in one transaction. Exit status 0.

    A row names its own source (an xpsync export does) or takes the import's (`source`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        accounts = len({(row.platform, row.external_id) for row in rows})
        table(f"import {source}: {accounts} account(s) by rank", ["rank", "people"], preview(conn, rows))
        if dry_run:
            out.print("dry run: nothing written")
            return 0
        changed = 0
        with Progress(console=out, transient=True) as progress, conn.transaction():
            task = progress.add_task(f"importing {source}", total=len(rows))
            for row in rows:
                result = conn.execute(
                    "SELECT applied FROM xp.import_xp(%s, %s, %s, %s, %s, %s)",
                    (row.platform, row.external_id, row.xp, row.coins, row.source or source, row.display_name),
                ).fetchone()
                changed += bool(result and result[0])
                progress.advance(task)
    out.print(f"imported {len(rows)} row(s) of {accounts} account(s): {changed} changed, "
              f"{len(rows) - changed} already up to date")
    return 0
