"""`xpsync stats`: the health of the system, as a table or as JSON."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from .console import table
from .db import first


def fetch(url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        stats: dict[str, Any] = first(conn.execute("SELECT xp.stats()").fetchone())
        return stats


def show(stats: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(stats, indent=2, sort_keys=True))
        return
    statuses = ("pending", "done", "failed", "dead")
    oldest = stats["oldest_pending_seconds"]
    table("deliveries", ["target", *statuses, "oldest pending (s)"], [
        [target, *(counts.get(s, 0) for s in statuses), oldest.get(target, "")]
        for target, counts in sorted(stats["deliveries"].items())
    ])
    if stats["failures"]:
        table("failures", ["target", "status", "count", "reason"],
              [[f["target"], f["status"], f["count"], f["reason"]] for f in stats["failures"]])
    table("ledger", ["people", "ledger rows", "awards in the last hour", "NOTIFY queue usage"],
          [[stats["people"], stats["ledger_rows"], stats["awards_last_hour"], f"{stats['notify_queue_usage']:.2%}"]])
