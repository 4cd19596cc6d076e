"""Operator-facing output: tables on stdout, one-line errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, header: bool = True) -> None:
    """Print a table; `header=False` for a list of (name, value) lines whose columns need no names."""
    t = Table(title=title, title_justify="left", show_header=header)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    out.print(t)
