"""A CSV file as rows: platform,external_id,xp[,coins][,display_name], with an optional header row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..vocabulary import PLATFORMS
from .rows import ImportFileError, Row, external_id, read_text, whole

COLUMNS = ("platform", "external_id", "xp", "coins", "display_name")


def read_csv(path: Path) -> list[Row]:
    """platform,external_id,xp[,coins][,display_name] with an optional header row."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    rows: list[Row] = []
    for record in reader:
        where = f"{path} line {reader.line_num}"
        if not record or all(not cell.strip() for cell in record):
            continue
        if reader.line_num == 1 and record[0].strip().lower() == "platform":
            continue  # header
        if not 3 <= len(record) <= 5:
            raise ImportFileError(f"{where}: expected platform,external_id,xp[,coins][,display_name], "
                                  f"got {len(record)} fields")
        platform = record[0].strip().lower()
        if platform not in PLATFORMS:
            raise ImportFileError(f"{where}: unknown platform {record[0]!r} (expected {', '.join(PLATFORMS)})")
        coins = whole(record[3].strip() or "0", "coins", where) if len(record) > 3 else 0
        name = record[4].strip() or None if len(record) > 4 else None
        rows.append(Row(reader.line_num, platform, external_id(record[1], where),
                        whole(record[2].strip(), "xp", where), coins, name))
    return rows
