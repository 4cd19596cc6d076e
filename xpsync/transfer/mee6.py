"""A MEE6 leaderboard as rows: Discord accounts and their XP.

MEE6 serves its leaderboard page by page (`/api/plugins/levels/leaderboard/GUILD?page=N`): an
object whose `players` hold `id`, `username`, `xp`, `level`, `message_count`, `detailed_xp`,
`guild_id`… Accepted: one page, a JSON list of pages, pages written one after another (what a
loop of `curl … >> file` leaves), or a bare list of players. A player met twice (the board moved
between two page fetches) counts with the higher XP: MEE6's XP only grows, so the lower one is
the older. A player of another guild than --guild is refused.
"""

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


def read_mee6(path: Path, guild: str | None = None) -> list[Row]:
    """The players of a MEE6 leaderboard file (one of the shapes above), one row per player."""
    text = read_text(path)
    decoder = _PositionedDecoder()
    documents = _documents(text, decoder, path)

    def line_of(obj: Any) -> int:
        return text.count("\n", 0, decoder.starts.get(id(obj), 0)) + 1

    players: list[Any] = []
    for document in documents:
        pages = document if isinstance(document, list) else [document]
        if pages and all(isinstance(p, dict) and "players" not in p and "xp" in p for p in pages):
            players.extend(pages)  # a bare list of players
            continue
        for page in pages:
            if not isinstance(page, dict) or not isinstance(page.get("players"), list):
                raise ImportFileError(f"{path} line {line_of(page)}: not a MEE6 leaderboard page (no \"players\" list)")
            players.extend(page["players"])
    rows: dict[str, Row] = {}
    for player in players:
        where = f"{path} line {line_of(player)}"
        if not isinstance(player, dict) or "id" not in player or "xp" not in player:
            raise ImportFileError(f"{where}: a player needs an \"id\" and an \"xp\"")
        if guild is not None and player.get("guild_id") not in (None, "") and str(player["guild_id"]) != guild:
            raise ImportFileError(f"{where}: player {player['id']} is of guild {player['guild_id']}, not of {guild}")
        row = Row(line_of(player), "discord", external_id(player["id"], where), whole(player["xp"], "xp", where),
                  0, player.get("username") or None)
        if row.external_id not in rows or row.xp > rows[row.external_id].xp:
            rows[row.external_id] = row
    return sorted(rows.values(), key=lambda r: r.line)


def _documents(text: str, decoder: _PositionedDecoder, path: Path) -> list[Any]:
    """Every JSON document of the file, one after another."""
    documents: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
        documents.append(document)
    if not documents:
        raise ImportFileError(f"{path} line 1: not valid JSON (the file is empty)")
    return documents
