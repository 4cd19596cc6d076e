"""`xpsync reconcile`: move people after threshold changes, then check and fix drift."""

from __future__ import annotations

from typing import Any

import psycopg

from .console import out, table
from .db import first


def rerank(conn: psycopg.Connection[Any], batch_size: int = 1000) -> int:
    """Everyone out of step with xp.ranks, in short transactions."""
    moved = 0
    while n := first(conn.execute("SELECT xp.rerank_batch(%s)", (batch_size,)).fetchone()):
        moved += n
    return moved


def run(url: str, *, dry_run: bool, user: int | None) -> int:
    """Print the findings; exit status 1 when a dry run found drift."""
    with psycopg.connect(url, autocommit=True) as conn:
        moved = 0 if dry_run else rerank(conn)
        if user is None:
            rows = conn.execute("SELECT * FROM xp.reconcile_all(%s)", (dry_run,)).fetchall()
        else:
            rows = conn.execute("SELECT * FROM xp.reconcile_user(%s, %s)", (user, dry_run)).fetchall()
        if not dry_run:
            # the board marks places are counted from, for sites without `xpsync web` (which keeps them fresh)
            conn.execute("SELECT xp.refresh_places()")
    if moved:
        out.print(f"rank thresholds: moved {moved} people")
    if not rows:
        out.print("no drift")
        return 0
    table("reconcile" + (" (dry run: nothing fixed)" if dry_run else ""),
          ["user_id", "check", "expected", "actual", "fixed"], rows)
    out.print(f"{len(rows)} finding(s)" + ("" if dry_run else ", all fixed"))
    return 1 if dry_run else 0
