"""The one catalogue of what xpsync says, per language: used by both bots, the listeners and the web.

Numbers and names come from the database; only the words live here, one module
per language (en.py, ru.py) with the same keys.
"""

from __future__ import annotations

from typing import Any

from ..vocabulary import DEFAULT_LANGUAGE, LANGUAGES, PERIODS
from . import en, ru
from .wording import WORDING

CATALOGUE: dict[str, dict[str, str]] = {"en": en.TEXTS, "ru": ru.TEXTS}


def say(language: str | None, key: str, **values: Any) -> str:
    """The text `key` in `language` (English for a language we do not speak), filled with `values`: the
    operators' wording when they reworded it (xp.texts, see wording.py), else the code's."""
    spoken = language if language in CATALOGUE else DEFAULT_LANGUAGE
    reworded = WORDING.render(spoken, key, values)
    if reworded is not None:
        return reworded
    return CATALOGUE[spoken][key].format(**values)


def title_in(title: dict[str, str], language: str | None) -> str:
    """An operator's title of a quest or shop item ({"en": ..., "ru": ...}) in a language, else English."""
    return title.get(language or DEFAULT_LANGUAGE) or title.get(DEFAULT_LANGUAGE) or ""


def period_name(language: str | None, period: str) -> str:
    """A leaderboard period (one of PERIODS) as words."""
    return say(language, "periods").split("|")[PERIODS.index(period)]


def pick_language(chosen: str | None, client_hint: str | None) -> str:
    """The person's chosen language, else their app's language when we speak it, else English."""
    if chosen is not None and chosen in LANGUAGES:
        return chosen
    hint = (client_hint or "")[:2].lower()
    return hint if hint in LANGUAGES else DEFAULT_LANGUAGE


__all__ = ["CATALOGUE", "LANGUAGES", "period_name", "pick_language", "say", "title_in"]
