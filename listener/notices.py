"""The words of Telegram notices, per language (en, ru)."""

from __future__ import annotations

from typing import Any

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "rank_up": "🎉 Rank up! You are now {emoji} {name}.",
        "achievement": "🏆 Achievement unlocked: {emoji} {name}",
    },
    "ru": {
        "rank_up": "🎉 Новый ранг! Теперь вы {emoji} {name}.",
        "achievement": "🏆 Новое достижение: {emoji} {name}",
    },
}


def render(kind: str, payload: dict[str, Any], language: str) -> str | None:
    """The notice for an event, or None when the event is not worth a message (e.g. a demotion)."""
    words = TEMPLATES.get(language, TEMPLATES["en"])
    if kind == "rank_changed" and payload.get("new_rank", 0) > payload.get("old_rank", 0):
        return words["rank_up"].format(emoji=payload.get("emoji", ""), name=payload.get("name", payload["new_rank"]))
    if kind == "achievement_unlocked":
        name = payload.get("translations", {}).get(language) or payload.get("name", "")
        return words["achievement"].format(emoji=payload.get("emoji", ""), name=name)
    return None
