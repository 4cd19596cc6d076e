"""What an import file becomes (one Row per account) and how a bad row is named (ImportFileError)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def whole(value: Any, what: str, where: str) -> int:
    """A non-negative whole number (an int, or text holding one)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ImportFileError(f"{where}: {what} {value!r} is not a whole number") from None
    if number < 0:
        raise ImportFileError(f"{where}: {what} {number} is negative")
    return number


def external_id(value: Any, where: str) -> str:
    """An account id: 1 to 200 characters once trimmed."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 200:
        raise ImportFileError(f"{where}: the account id {value!r} must be 1 to 200 characters")
    return text


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text") from None
