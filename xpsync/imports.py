"""`xpsync import mee6|csv` and `xpsync export csv`.

A file is read and checked whole before anything is written: the first
malformed row stops the import with its line number. Then every row goes
through xp.import_xp in one transaction, which awards only the difference from
earlier imports of the same source, so importing a file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import json.decoder
import json.scanner
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from rich.progress import Progress

from .console import out, table

PLATFORMS = ("telegram", "discord", "website")


class ImportFileError(Exception):
    """A malformed file or row; the message names the file and the line."""


@dataclass(frozen=True)
class Row:
    line: int
    platform: str
    external_id: str
    xp: int
    coins: int
    display_name: str | None


def _whole(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number") from None
    if number < 0:
        raise ImportFileError(f"{where}: {what} {number} is negative")
    return number


def _external_id(value: Any, where: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 200:
        raise ImportFileError(f"{where}: the account id {value!r} must be 1 to 200 characters")
    return text


# --- MEE6 -----------------------------------------------------------------------------------------


class _PositionedDecoder(json.JSONDecoder):
    """Records where each JSON object starts, so that a bad player can be named by its line."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: dict[int, int] = {}

        def parse_object(s_and_end, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            obj, end = json.decoder.JSONObject(s_and_end, *args, **kwargs)
            self.starts[id(obj)] = s_and_end[1] - 1
            return obj, end

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)


def read_mee6(path: Path) -> list[Row]:
    """The players of one MEE6 leaderboard page, or of a JSON list of pages."""
    text = _read(path)
    decoder = _PositionedDecoder()
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    pages = data if isinstance(data, list) else [data]
    rows: list[Row] = []
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("players"), list):
            line = _line(text, decoder.starts.get(id(page), 0))
            raise ImportFileError(f"{path} line {line}: not a MEE6 leaderboard page (no \"players\" list)")
        for player in page["players"]:
            line = _line(text, decoder.starts.get(id(player), 0))
            where = f"{path} line {line}"
            if not isinstance(player, dict) or "id" not in player or "xp" not in player:
                raise ImportFileError(f"{where}: a player needs an \"id\" and an \"xp\"")
            rows.append(Row(line, "discord", _external_id(player["id"], where), _whole(player["xp"], "xp", where),
                            0, player.get("username") or None))
    return rows


# --- CSV ------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[Row]:
    """platform,external_id,xp[,coins][,display_name] with an optional header row."""
    reader = csv.reader(io.StringIO(_read(path), newline=""))
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
        coins = _whole(record[3].strip() or "0", "coins", where) if len(record) > 3 else 0
        name = record[4].strip() or None if len(record) > 4 else None
        rows.append(Row(reader.line_num, platform, _external_id(record[1], where),
                        _whole(record[2].strip(), "xp", where), coins, name))
    return rows


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text") from None


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# --- preview and apply ----------------------------------------------------------------------------


def preview(conn: psycopg.Connection, rows: list[Row]) -> list[tuple[str, int]]:
    """How many imported accounts land in each rank (by the imported XP)."""
    ranks = conn.execute("SELECT name, min_xp FROM xp.ranks ORDER BY min_xp DESC").fetchall()
    landed = Counter(next(name for name, floor in ranks if row.xp >= floor) for row in rows)
    return [(name, landed[name]) for name, _ in reversed(ranks) if landed[name]]


def run(url: str, rows: list[Row], *, source: str, dry_run: bool) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        table(f"import {source}: {len(rows)} account(s) by rank", ["rank", "people"], preview(conn, rows))
        if dry_run:
            out.print("dry run: nothing written")
            return 0
        changed = 0
        with Progress(console=out, transient=True) as progress, conn.transaction():
            task = progress.add_task(f"importing {source}", total=len(rows))
            for row in rows:
                result = conn.execute(
                    "SELECT applied FROM xp.import_xp(%s, %s, %s, %s, %s, %s)",
                    (row.platform, row.external_id, row.xp, row.coins, source, row.display_name),
                ).fetchone()
                changed += bool(result[0])
                progress.advance(task)
    out.print(f"imported {len(rows)} account(s): {changed} changed, {len(rows) - changed} already up to date")
    return 0


def export_csv(url: str) -> Iterator[str]:
    """One line per person (their oldest account): platform,external_id,xp,coins,display_name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["platform", "external_id", "xp", "coins", "display_name"])
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
