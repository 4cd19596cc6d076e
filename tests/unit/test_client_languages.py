"""The app languages the Telegram bot has recorded: each once, again when it changes, bounded."""

from __future__ import annotations

from xpsync.bots.telegram.client_languages import ClientLanguages


def test_a_hint_is_new_until_recorded_and_again_when_the_app_changes_language():
    seen = ClientLanguages()
    assert seen.is_new("1", "ru")
    seen.recorded("1", "ru")
    assert not seen.is_new("1", "ru")
    assert seen.is_new("1", "en")  # the member switched their app's language
    assert not seen.is_new("2", None) and not seen.is_new("2", "")  # nothing to record


def test_the_least_recently_seen_are_forgotten_first():
    seen = ClientLanguages(size=2)
    seen.recorded("1", "ru")
    seen.recorded("2", "en")
    assert not seen.is_new("1", "ru")  # 1 seen again: 2 is now the oldest
    seen.recorded("3", "ru")
    assert seen.is_new("2", "en") and not seen.is_new("1", "ru") and not seen.is_new("3", "ru")
