"""The web's pure pieces, without a database: languages, next paths, rate limits, the Telegram
widget's signature, rank card fields."""

from __future__ import annotations

import pytest

from tests.helpers import telegram_login
from xpsync.cards import Card, card_png
from xpsync.web.language import from_accept_language, pick
from xpsync.web.limits import RateLimit
from xpsync.web.security import safe_next
from xpsync.web.telegram_login import LoginRefused, verify


@pytest.mark.parametrize("header, language", [
    ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"), ("en-GB,en;q=0.9,ru;q=0.8", "en"), ("de-DE, ru;q=0.3", "ru"),
    ("de, fr", None), ("", None), (None, None), ("ru;q=0, en;q=0.1", "en"), ("ru;q=abc, en;q=0.5", "en"),
    ("en;q=0.5, ru;q=0.9", "ru"),
])
def test_accept_language(header, language):
    assert from_accept_language(header) == language


def test_the_query_beats_the_choice_beats_the_browser():
    assert pick("ru", "en", "en") == "ru" and pick(None, "ru", "en") == "ru" and pick("xx", None, "ru") == "ru"
    assert pick(None, None, None) == "en"


@pytest.mark.parametrize("value, safe", [
    ("/u/5", "/u/5"), ("/?period=week&page=2", "/?period=week&page=2"), (None, "/"), ("", "/"),
    ("https://evil.example", "/"), ("//evil.example", "/"), ("/\\evil.example", "/"), ("\\\\evil", "/"),
    ("javascript:alert(1)", "/"), ("/\nLocation: x", "/"), ("u/5", "/"), ("///evil.example", "/"),
])
def test_next_is_a_path_on_this_site(value, safe):
    assert safe_next(value) == safe


def test_rate_limit_allows_the_limit_then_says_how_long_to_wait():
    limit = RateLimit(3, 60)
    assert [limit.hit("a", now=t) for t in (0, 1, 2)] == [0, 0, 0]
    assert limit.hit("a", now=10) == 50 and limit.hit("b", now=10) == 0
    assert limit.hit("a", now=60.5) == 0  # the first hit left the window


def test_rate_limit_forgets_idle_keys_when_full():
    limit = RateLimit(1, 60, max_keys=2)
    limit.hit("a", now=0)
    limit.hit("b", now=0)
    limit.hit("c", now=100)
    assert set(limit._hits) == {"c"}


def test_the_widget_signature_is_checked_and_its_age_bounded():
    fields = telegram_login("1:abc", "42", "Ann", auth_date=1_000_000)
    assert verify(fields, "1:abc", now=1_000_000 + 86_400)["id"] == "42"
    extra = {**fields, "next": "/u/1"}  # our own parameter is not part of what Telegram signed
    assert verify(extra, "1:abc", now=1_000_010)["first_name"] == "Ann"
    for query, now in (({**fields, "hash": "0" * 64}, 1_000_010), (fields, 1_000_000 + 86_401),
                       ({**fields, "id": "43"}, 1_000_010), (fields, 1_000_000 - 301)):
        with pytest.raises(LoginRefused):
            verify(query, "1:abc", now=now)
    with pytest.raises(LoginRefused):
        verify(fields, "2:other", now=1_000_010)


def card(**changes):
    fields = {"name": "Ann", "rank_name": "F II", "tier": "F", "color": "#9E9E9E", "xp": 500, "coins": 50,
              "floor": 255, "ceiling": 770, "next_name": "F III", "place": 3, "language": "en", **changes}
    return Card(**fields)


def test_card_progress_and_text():
    assert card().progress == pytest.approx((500 - 255) / (770 - 255))
    assert card(ceiling=None, next_name=None).progress == 1.0
    assert card().progress_text == "270 XP to F III"
    assert card(language="ru").progress_text == "до F III: 270 опыта"
    assert card(ceiling=None, next_name=None).progress_text == "Top rank reached"


def test_an_unchanged_card_is_not_drawn_again():
    card_png.cache_clear()
    first = card_png(card(name="Ann unique"))
    assert card_png(card(name="Ann unique")) is first
    assert card_png.cache_info().hits == 1
    assert card_png(card(name="Ann unique", xp=501)) != first
