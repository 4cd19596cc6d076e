"""A CSV file as rows: platform,external_id,xp[,coins][,display_name][,source], with an optional header row.

`xpsync export csv` writes these columns, every text cell formula-safe (rows.formula_safe), and one
row per account and source; a row without a source is the import's own (csv). A file that lists
one account twice for one source is refused, naming both lines: which total is meant cannot be
known."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..vocabulary import PLATFORMS
from .rows import XPSYNC_SOURCE, ImportFileError, Row, external_id, read_text, unescaped, whole

COLUMNS = ("platform", "external_id", "xp", "coins", "display_name", "source")
SHAPE = "platform,external_id,xp[,coins][,display_name][,source]"


def read_csv(path: Path) -> list[Row]:
    """platform,external_id,xp[,coins][,display_name][,source] with an optional header row."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    rows: list[Row] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    for record in reader:
        where = f"{path} line {reader.line_num}"
        if not record or all(not cell.strip() for cell in record):
            continue
        if reader.line_num == 1 and record[0].strip().lower() == "platform":
            continue  # header
        if not 3 <= len(record) <= len(COLUMNS):
            raise ImportFileError(f"{where}: expected {SHAPE}, got {len(record)} fields")
        cells = [unescaped(cell) for cell in record] + [""] * (len(COLUMNS) - len(record))
        platform = cells[0].strip().lower()
        if platform not in PLATFORMS:
            raise ImportFileError(f"{where}: unknown platform {record[0]!r} (expected {', '.join(PLATFORMS)})")
        source = cells[5].strip() or None
        if source is not None and not 1 <= len(source) <= 60:
            raise ImportFileError(f"{where}: the source {source!r} must be 1 to 60 characters")
        negative = bool(source and source.startswith(XPSYNC_SOURCE))
        row = Row(reader.line_num, platform, external_id(cells[1], where),
                  whole(cells[2].strip(), "xp", where, negative=negative),
                  whole(cells[3].strip() or "0", "coins", where, negative=negative),
                  cells[4].strip() or None, source)
        key = (row.platform, row.external_id, row.source)
        if key in seen:
            raise ImportFileError(f"{where}: {row.platform}:{row.external_id} is listed already on line {seen[key]}"
                                  f"{f' for {row.source}' if row.source else ''}; which total is meant?")
        seen[key] = reader.line_num
        rows.append(row)
    return rows
