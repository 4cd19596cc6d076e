"""Which events a person is told about on Telegram, and the notice for each (words: xpsync.texts)."""

from __future__ import annotations

from typing import Any

from xpsync.texts import say


def render(kind: str, payload: dict[str, Any], language: str) -> str | None:
    """The notice for an event, or None when the event is not worth a message (e.g. a demotion)."""
    if kind == "rank_changed" and payload.get("new_rank", 0) > payload.get("old_rank", 0):
        return say(language, "notice_rank_up", emoji=payload.get("emoji", ""),
                   name=payload.get("name", payload["new_rank"]))
    if kind == "achievement_unlocked":
        name = payload.get("translations", {}).get(language) or payload.get("name", "")
        return say(language, "notice_achievement", emoji=payload.get("emoji", ""), name=name)
    return None
