"""The operators' wording in front of the code's words: said when present, the code's words otherwise,
and the code's words again for a body that does not render with what the caller passes."""

from __future__ import annotations

import logging

import pytest

from xpsync.texts import say
from xpsync.texts.wording import WORDING, Wording


@pytest.fixture
def reworded():
    yield WORDING
    WORDING.replace([])


def test_a_reworded_text_is_said_in_its_language_only(reworded):
    reworded.replace([{"key": "welcome", "language": "ru", "body": "Привет, {name}!"}])
    assert say("ru", "welcome", name="Оля") == "Привет, Оля!"
    assert say("en", "welcome", name="Ann").startswith("👋 Welcome, Ann!")
    assert say("de", "welcome", name="Ann").startswith("👋 Welcome, Ann!")  # English, the code's words


def test_a_body_that_does_not_render_falls_back_to_the_code(reworded, caplog):
    reworded.replace([{"key": "daily_ok", "language": "en", "body": "{xp} and {nope}"}])
    with caplog.at_level(logging.WARNING):
        assert say("en", "daily_ok", xp=1, coins=2, streak=3) == "🎁 +1 XP and +2 coins. Streak: 3 days."
    assert "daily_ok/en does not render" in caplog.text


def test_wording_is_replaced_whole():
    w = Wording()
    w.replace([{"key": "a", "language": "en", "body": "x"}])
    w.replace([])
    assert len(w) == 0 and w.render("en", "a", {}) is None
