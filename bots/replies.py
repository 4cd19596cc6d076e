"""Replies both bots build from database answers: refusals, profiles, boards, daily and game results."""

from __future__ import annotations

import logging
from typing import Any

from xpsync.errors import XPError
from xpsync.texts import period_name, say, title_in

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


def quests_text(quests: list[dict[str, Any]], language: str | None) -> str:
    """The quest list: each quest's reward and how far the member has come in its window."""
    if not quests:
        return say(language, "quests_empty")
    lines = [say(language, "quests_title")]
    for q in quests:
        if q["left_to_earn"] <= 0 or q["completed"] >= q["per_person"]:
            progress = say(language, "quest_done")
        elif q["pending"]:
            progress = say(language, "quest_waiting")
        else:
            progress = say(language, "quest_progress", progress=q["progress"], target=q["target"])
        lines.append(say(language, "quest_row", title=title_in(q["title"], language), progress=progress,
                         reward=say(language, "reward", xp=q["reward_xp"], coins=q["reward_coins"])))
    return "\n".join(lines)


def submittable(quests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The quests a member may submit now (a submission quest with something left and nothing waiting)."""
    return [q for q in quests if q["proof"] == "submission" and q["left_to_earn"] > 0 and not q["pending"]]


def submitted_text(quest: dict[str, Any] | None, language: str | None) -> str:
    return say(language, "quest_submitted", title=title_in(quest["title"], language) if quest else "")


def shop_text(items: list[dict[str, Any]], coins: int, language: str | None) -> str:
    if not items:
        return say(language, "shop_empty")
    lines = [say(language, "shop_title", coins=coins)]
    lines += [say(language, "shop_row", title=title_in(i["title"], language), price=i["price"],
                  stock=say(language, "shop_stock", left=i["stock"]) if i["stock"] is not None else "").rstrip()
              for i in items]
    return "\n".join(lines)


def purchase_text(bought: dict[str, Any], item: dict[str, Any] | None, language: str | None) -> str:
    title = title_in(item["title"], language) if item else bought["item"]
    key = "purchase_pending" if bought["status"] == "pending" else "purchase_done"
    return say(language, key, title=title, coins=bought["coins"])
