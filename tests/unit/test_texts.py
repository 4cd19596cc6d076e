"""The one text catalogue: every language says everything, with the same fields; notices and the
Discord profile card speak the member's language."""

from __future__ import annotations

import string

import pytest

from xpsync.bots.discord.cogs.profile import profile_embed, progress_bar
from xpsync.listener.notices import render
from xpsync.texts import CATALOGUE, period_name, pick_language, say
from xpsync.vocabulary import LANGUAGES, PERIODS


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_catalogue_has_every_language_and_every_key_in_each():
    assert set(CATALOGUE) == set(LANGUAGES)
    english = CATALOGUE["en"]
    for language, words in CATALOGUE.items():
        assert set(words) == set(english), language


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_translation_fills_the_same_fields_as_english(language):
    for key, template in CATALOGUE["en"].items():
        assert fields(CATALOGUE[language][key]) == fields(template), key


def test_every_period_has_a_name_in_every_language():
    for language in LANGUAGES:
        names = [period_name(language, p) for p in PERIODS]
        assert len(set(names)) == len(PERIODS) and all(names)


def test_unknown_languages_fall_back_to_english():
    assert say("de", "top_empty") == say(None, "top_empty") == "Nobody is on this board yet."


@pytest.mark.parametrize(("chosen", "hint", "expected"), [
    ("ru", "en-US", "ru"),  # the person's own choice wins
    (None, "ru-RU", "ru"),  # else the app's language when we speak it
    (None, "de", "en"),     # else English
    ("xx", None, "en"),
    (None, "RU", "ru"),
])
def test_pick_language(chosen, hint, expected):
    assert pick_language(chosen, hint) == expected


def test_notices_are_told_for_rank_ups_and_achievements_only():
    up = {"old_rank": 1, "new_rank": 2, "emoji": "🌱", "name": "F II"}
    assert render("rank_changed", up, "en") == "🎉 Rank up! You are now 🌱 F II."
    assert render("rank_changed", up, "ru") == "🎉 Новый ранг! Теперь вы 🌱 F II."
    assert render("rank_changed", {**up, "old_rank": 3}, "en") is None  # a demotion is not announced
    assert render("account_linked", {}, "en") is None
    achievement = {"emoji": "🎙️", "name": "On air", "translations": {"ru": "В эфире"}}
    assert render("achievement_unlocked", achievement, "ru") == "🏆 Новое достижение: 🎙️ В эфире"
    assert render("achievement_unlocked", achievement, "en") == "🏆 Achievement unlocked: 🎙️ On air"


PROFILE = {
    "display_name": "Ivan", "xp": 300, "coins": 50, "place": 4, "streak": 2,
    "rank": {"name": "F II", "emoji": "🌱", "color": "#9E9E9E", "min_xp": 255},
    "next_rank": {"name": "F III", "min_xp": 770, "xp_remaining": 470},
    "achievements": [{"emoji": "🔗"}], "accounts": [{"platform": "discord"}, {"platform": "telegram"}],
}


def test_the_discord_profile_card_is_labelled_in_the_members_language():
    english = {f.name: f.value for f in profile_embed(PROFILE, "en").fields}
    russian = {f.name: f.value for f in profile_embed(PROFILE, "ru").fields}
    assert list(english) == ["Rank", "XP", "Coins", "Progress", "Place", "Streak", "Achievements", "Accounts"]
    assert list(russian) == ["Ранг", "Опыт", "Монеты", "Прогресс", "Место", "Серия", "Достижения", "Аккаунты"]
    assert russian["Прогресс"].endswith("до F III: 470 опыта")
    assert english["Place"] == russian["Место"] == "#4"


def test_the_progress_bar_fills_with_the_way_to_the_next_rank():
    assert progress_bar(255, 255, 770) == "░" * 10
    assert progress_bar(512, 255, 770) == "████░░░░░░"
    assert progress_bar(769, 255, 770) == "█████████░"
