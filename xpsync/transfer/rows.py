"""What an import file becomes (one Row per account and source) and how a bad row is named (ImportFileError)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# the largest total xp.import_xp takes (XP002 beyond it)
MAX_TOTAL = 1_000_000_000
# the source of xpsync's own exports: their totals may be negative (what was spent there)
XPSYNC_SOURCE = "xpsync:"
# a cell a spreadsheet would run as a formula starts with one of these; the export puts a ' before it
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


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
    source: str | None = None  # None: the import's own (mee6:GUILD, csv)


def whole(value: Any, what: str, where: str, *, negative: bool = False) -> int:
    """A whole number (an int, or text holding one) within what an import takes."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number") from None
    if number < 0 and not negative:
        raise ImportFileError(f"{where}: {what} {number} is negative")
    if abs(number) > MAX_TOTAL:
        raise ImportFileError(f"{where}: {what} {number} is beyond {MAX_TOTAL}, the largest total an import takes")
    return number


def external_id(value: Any, where: str) -> str:
    """An account id: 1 to 200 characters once trimmed."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 200:
        raise ImportFileError(f"{where}: the account id {value!r} must be 1 to 200 characters")
    return text


def formula_safe(cell: str) -> str:
    """A text cell no spreadsheet runs as a formula: one that would start one gets a ' before it."""
    return "'" + cell if _FORMULA.match(cell) else cell


def unescaped(cell: str) -> str:
    """A cell as formula_safe had it (its ' taken off again)."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell[1:]) else cell


def read_text(path: Path) -> str:
    """The file's text as written: no newline translation, so a quoted CR inside a CSV cell stays one."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text") from None
