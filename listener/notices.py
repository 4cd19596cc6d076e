"""Which events a person is told about on Telegram, and the notice for each (words: xpsync.texts)."""

from __future__ import annotations

from typing import Any

from xpsync.texts import say, title_in


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
    if kind in ("quest_completed", "quest_reviewed", "purchase_reviewed"):
        return review_notice(kind, payload, language)
    return None


def review_notice(kind: str, payload: dict[str, Any], language: str) -> str:
    """A quest completed by itself, or a submission or purchase an operator reviewed."""
    title = title_in(payload.get("title") or {}, language)
    reward = say(language, "reward", xp=payload.get("reward_xp", 0), coins=payload.get("reward_coins", 0))
    note = payload.get("note") or ""
    if kind == "quest_completed":
        return say(language, "notice_quest_completed", title=title, reward=reward).strip()
    approved = payload.get("status") == "approved"
    if kind == "quest_reviewed":
        if approved:
            return say(language, "notice_quest_approved", title=title, reward=reward, note=note).strip()
        return say(language, "notice_quest_declined", title=title, note=note).strip()
    if approved:
        return say(language, "notice_purchase_approved", title=title, note=note).strip()
    return say(language, "notice_purchase_declined", title=title, price=payload.get("price", 0), note=note).strip()
