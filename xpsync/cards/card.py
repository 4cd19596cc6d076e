"""What a rank card shows: exactly the fields it is drawn from, so that equal cards are drawn once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..texts import say
from ..vocabulary import DEFAULT_LANGUAGE, LANGUAGES


@dataclass(frozen=True)
class Card:
    name: str
    rank_name: str
    tier: str
    color: str
    xp: int
    coins: int
    floor: int  # XP at which the current rank starts
    ceiling: int | None  # XP of the next rank (None on the top rank)
    next_name: str | None
    place: int | None
    language: str = "en"

    @classmethod
    def from_profile(cls, profile: dict[str, Any], language: str = "en") -> Card:
        """From xp.profile or xp.public_profile."""
        rank, upcoming = profile["rank"], profile.get("next_rank")
        return cls(
            name=profile.get("display_name") or f"#{profile['user_id']}",
            rank_name=rank["name"], tier=rank["tier"], color=rank["color"],
            xp=int(profile["xp"]), coins=int(profile["coins"]), floor=int(rank["min_xp"]),
            ceiling=int(upcoming["min_xp"]) if upcoming else None,
            next_name=upcoming["name"] if upcoming else None,
            place=profile.get("place"), language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
        )

    @property
    def progress(self) -> float:
        """How far from this rank's start to the next rank, 0..1 (1 on the top rank)."""
        if self.ceiling is None or self.ceiling <= self.floor:
            return 1.0
        return min(1.0, max(0.0, (self.xp - self.floor) / (self.ceiling - self.floor)))

    def label(self, key: str, **values: object) -> str:
        return say(self.language, "card_" + key, **values)

    @property
    def progress_text(self) -> str:
        if self.ceiling is None or self.next_name is None:
            return self.label("top")
        return self.label("to_next", remaining=f"{self.ceiling - self.xp:,}".replace(",", " "), next=self.next_name)
