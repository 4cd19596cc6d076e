"""Replies both bots build from database answers: refusals, profiles, boards, daily and game results."""

from __future__ import annotations

import logging
from typing import Any

from xpsync.errors import XPError
from xpsync.texts import period_name, say

log = logging.getLogger(__name__)


def refusal(exc: XPError, language: str | None) -> str:
    """One friendly line for an XP00x refusal (never a traceback)."""
    return say(language, exc.sqlstate, detail=exc.message)


def apology(exc: BaseException, language: str | None, context: str) -> str:
    """An unexpected error: logged with its context; the member gets a short apology."""
    log.error("unexpected error in %s: %s: %s", context, type(exc).__name__, exc, exc_info=exc)
    return say(language, "oops")


def profile_text(p: dict[str, Any], language: str | None) -> str:
    nxt = p.get("next_rank")
    progress = (say(language, "progress", remaining=nxt["xp_remaining"], next=nxt["name"]) if nxt
                else say(language, "top_rank"))
    accounts = ", ".join(f"{a['platform']} ({a.get('display_name') or a['external_id']})" for a in p["accounts"])
    return say(language, "profile", emoji=p["rank"]["emoji"], name=p.get("display_name") or "—",
               rank=p["rank"]["name"], xp=p["xp"], coins=p["coins"], place=p.get("place") or "—",
               progress=progress, streak=p["streak"], achievements=len(p.get("achievements", [])),
               accounts=accounts)


def board_text(rows: list[dict[str, Any]], period: str, language: str | None) -> str:
    lines = [say(language, "top_title", period=period_name(language, period))]
    lines += [say(language, "top_row", place=r["place"], name=r["display_name"] or f"#{r['user_id']}", xp=r["xp"])
              for r in rows] or [say(language, "top_empty")]
    return "\n".join(lines)


def daily_text(d: dict[str, Any], language: str | None) -> str:
    if d["applied"]:
        return say(language, "daily_ok", xp=d["xp_awarded"], coins=d["coins_awarded"], streak=d["streak"])
    return say(language, "daily_again", next=d["next_claim_at"].strftime("%Y-%m-%d %H:%M"))


def link_text(person: int | None, language: str | None) -> str:
    return say(language, "link_done" if person is not None else "link_bad")


def game_text(g: dict[str, Any], language: str | None) -> str:
    """What a game's state (as xp.start_game / xp.play_game return it) tells the player."""
    if g["game"] == "spin":
        if not g["applied"]:
            return say(language, "spin_again", next=str(g.get("next_spin_at", ""))[:16].replace("T", " "))
        return say(language, "spin_won", amount=g["amount"], kind=say(language, g["kind"]))
    if not g["applied"] and g["status"] != "active":
        return say(language, "game_over")  # an answer after the end: a double tap, a retry
    if g["game"] == "guess":
        if g["status"] == "won":
            return say(language, "guess_won", number=g["number"], xp=g["xp_awarded"])
        if g["status"] == "lost":
            return say(language, "guess_lost", number=g["number"])
        hint = ""
        if g.get("hint"):
            hint = say(language, f"hint_{g['hint']}", last=g["guesses"][-1])
        return say(language, "guess_prompt", tries=g["tries_left"], hint=hint)
    if g["status"] == "won":
        return say(language, "quiz_right", xp=g["xp_awarded"])
    if g["status"] == "lost":
        return say(language, "quiz_wrong", answer=g["options"][g["answer"]])
    return g["question"]
