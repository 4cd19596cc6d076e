"""A MEE6 leaderboard (one page of its JSON, or a list of pages) as rows: Discord accounts and their XP."""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from pathlib import Path
from typing import Any

from .rows import ImportFileError, Row, external_id, read_text, whole


class _PositionedDecoder(json.JSONDecoder):
    """Records where each JSON object starts, so that a bad player can be named by its line."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: dict[int, int] = {}

        def parse_object(s_and_end: tuple[str, int], *args: Any, **kwargs: Any) -> tuple[dict[str, Any], int]:
            obj, end = json.decoder.JSONObject(s_and_end, *args, **kwargs)  # type: ignore[attr-defined]
            self.starts[id(obj)] = s_and_end[1] - 1
            return obj, end

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


def read_mee6(path: Path) -> list[Row]:
    """The players of one MEE6 leaderboard page, or of a JSON list of pages."""
    text = read_text(path)
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
            rows.append(Row(line, "discord", external_id(player["id"], where), whole(player["xp"], "xp", where),
                            0, player.get("username") or None))
    return rows


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1
