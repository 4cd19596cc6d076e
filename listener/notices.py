"""Which events a person is told about on Telegram, and the notice for each (words: xpsync.texts)."""

from __future__ import annotations

from typing import Any

from xpsync.texts import say


def render(kind: str, payload: dict[str, Any], language: str, *, person: str | None = None) -> str | None:
    """The notice for an event, or None when the event is not worth a message (e.g. a demotion). With
    `person` (their name), the notice speaks of them, for a group chat."""
    group = "_group" if person is not None else ""
    if kind == "rank_changed" and payload.get("new_rank", 0) > payload.get("old_rank", 0):
        return say(language, f"notice_rank_up{group}", emoji=payload.get("emoji", ""),
                   name=payload.get("name", payload["new_rank"]), person=person)
    if kind == "achievement_unlocked":
        name = payload.get("translations", {}).get(language) or payload.get("name", "")
        return say(language, f"notice_achievement{group}", emoji=payload.get("emoji", ""), name=name, person=person)
    return None
