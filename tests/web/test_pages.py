"""The public pages over HTTP: board, profile, card, ladder, languages, visibility, bad input."""

from __future__ import annotations

import re

import pytest

from tests.helpers import call, scalar
from tests.web.conftest import sign_in_telegram


def people(conn, n, prefix="member"):
    return [call(conn, "award_xp", "discord", str(i), 10 * (n - i), "r", f"k{i}", f"{prefix} {i}")["user_id"]
            for i in range(n)]


def names(html):
    return re.findall(r'class="person">([^<]*)</a>', html)


def test_the_board_shows_50_a_page_and_a_page_past_the_end_is_empty(client, conn):
    people(conn, 60)
    first = client.get("/")
    assert first.status_code == 200
    assert names(first.text)[:2] == ["member 0", "member 1"] and len(names(first.text)) == 50
    assert 'id="next"' in first.text and "60 on this board" in first.text
    second = client.get("/?page=2")
    assert names(second.text) == [f"member {i}" for i in range(50, 60)] and 'id="next"' not in second.text
    assert ">51<" in second.text  # places continue
    past = client.get("/?page=999999999")
    assert past.status_code == 200 and names(past.text) == [] and "Nobody here yet" in past.text


@pytest.mark.parametrize("query, status", [("?page=0", 400), ("?page=-1", 400), ("?page=abc", 400),
                                           ("?period=year", 400), ("?page=1e3", 400)])
def test_bad_board_parameters_get_a_clear_page(client, query, status):
    r = client.get("/" + query)
    assert r.status_code == status and "That did not work" in r.text and "Traceback" not in r.text


def test_periods_and_the_season_board_without_a_season(client, conn):
    people(conn, 3)
    for period in ("all", "month", "week"):
        assert len(names(client.get(f"/?period={period}").text)) == 3
    assert "No season is running now." in client.get("/?period=season").text
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) VALUES ('s1', current_date - 1, current_date + 9)")
    assert len(names(client.get("/?period=season").text)) == 3


def test_search_finds_by_name_prefix_and_htmx_gets_only_the_rows(client, conn):
    people(conn, 5)
    call(conn, "award_xp", "telegram", "x", 5, "r", "kx", "Zoë <script>")
    r = client.get("/?q=zo")
    assert names(r.text) == ["Zoë &lt;script&gt;"] and "<script>" not in r.text.split("<main>")[1]
    partial = client.get("/?q=member", headers={"HX-Request": "true"})
    assert len(names(partial.text)) == 5 and "<html" not in partial.text
    assert "starts with “nobody”" in client.get("/?q=nobody").text


def test_names_are_shown_literally_and_escaped(client, conn):
    uid = call(conn, "award_xp", "discord", "1", 50, "r", "k1", '"><img src=x onerror=alert(1)>')["user_id"]
    for path in ("/", f"/u/{uid}"):
        body = client.get(path).text
        assert "<img src=x" not in body and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in body


def test_a_profile_shows_rank_progress_platforms_places_activity_and_achievements(client, conn):
    people(conn, 3)
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = '1'")
    code = scalar(conn, "SELECT xp.create_link_code('discord', '1')")
    conn.execute("SELECT xp.redeem_link_code('telegram', 't1', %s)", (code,))
    r = client.get(f"/u/{uid}")
    assert r.status_code == 200
    html = r.text
    assert 'id="name">member 1<' in html and f'/u/{uid}/card.png' in html
    assert re.search(r'<ul class="platforms" id="platforms">.*Discord.*Telegram', html)
    assert "Two worlds" in html  # the linking achievement
    assert re.search(r'href="/\?period=all&(amp;)?page=1">#1</a>', html)  # 20 XP + 100 for linking
    assert html.count("<rect ") == 30
    assert "<progress" in html and "XP to F II" in html
    assert 'id="privacy"' not in html  # not one's own profile


def test_unknown_and_malformed_person_ids_are_a_404_page(client, conn):
    for path in ("/u/999999", "/u/abc", "/u/-1", "/u/" + "9" * 30, "/u/1.5", "/u/999999/card.png", "/u/x/card.png",
                 "/nowhere"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "text/html" in r.headers["content-type"] and "There is nobody here" in r.text


def test_the_card_is_a_png_revalidated_by_etag(client, conn):
    uid = call(conn, "award_xp", "telegram", "1", 300, "r", "k1", "Аня")["user_id"]
    r = client.get(f"/u/{uid}/card.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
    etag = r.headers["etag"]
    assert client.get(f"/u/{uid}/card.png", headers={"If-None-Match": etag}).status_code == 304
    call(conn, "award_xp", "telegram", "1", 10, "r", "k2")
    changed = client.get(f"/u/{uid}/card.png", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_a_hidden_person_is_off_the_board_and_404_to_others_but_not_to_themselves(client, make_client, sandbox, conn):
    people(conn, 3)
    sign_in_telegram(client, sandbox, "77", "Me")
    me = scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = 'telegram' AND external_id = '77'")
    call(conn, "award_xp", "telegram", "77", 5000, "r", "k77")
    assert names(client.get("/").text)[0] == "Me"
    conn.execute("SELECT xp.set_privacy('telegram', '77', true)")
    stranger = make_client()
    assert "Me" not in names(stranger.get("/").text)
    assert ">1<" in stranger.get("/").text  # places renumber
    assert stranger.get(f"/u/{me}").status_code == 404
    assert stranger.get(f"/u/{me}/card.png").status_code == 404
    own = client.get(f"/u/{me}")
    assert own.status_code == 200 and "You are hidden" in own.text
    assert client.get(f"/u/{me}/card.png").status_code == 200


def test_the_ladder_lists_every_rank_with_its_threshold(client):
    r = client.get("/ranks")
    assert r.status_code == 200 and r.text.count('class="badge rank-') == 20
    assert "126 825" in r.text and "S II" in r.text
    css = client.get("/assets/ranks.css")
    assert css.headers["content-type"].startswith("text/css") and ".rank-20{--rank:#FFD700}" in css.text


def test_languages_from_accept_language_and_lang_parameter(client, conn):
    people(conn, 1)
    assert "Таблица лидеров" in client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}).text
    assert "Leaderboard" in client.get("/", headers={"Accept-Language": "de, en;q=0.5"}).text
    assert "Leaderboard" in client.get("/", headers={"Accept-Language": "ru;q=0, en"}).text
    assert 'lang="ru"' in client.get("/ranks?lang=ru").text
    # the choice is remembered for the session
    assert 'lang="ru"' in client.get("/ranks", headers={"Accept-Language": "en"}).text
    assert 'lang="en"' in client.get("/ranks?lang=en").text
    assert 'lang="en"' in client.get("/ranks?lang=xx").text


def test_visibility_members_asks_anonymous_visitors_to_sign_in(client, make_client, sandbox, conn):
    uid = people(conn, 2)[0]
    conn.execute("UPDATE xp.settings SET value = '\"members\"' WHERE key = 'web.visibility'")
    fresh = make_client()
    for path in ("/", f"/u/{uid}", f"/u/{uid}/card.png", "/ranks"):
        r = fresh.get(path)
        assert r.status_code == 401 and "sign in to see it" in r.text, path
    sign_in_telegram(fresh, sandbox, "5")
    assert fresh.get("/").status_code == 200 and fresh.get(f"/u/{uid}/card.png").status_code == 200


def test_visibility_off_shows_the_pages_to_nobody(make_client, sandbox, conn):
    uid = people(conn, 1)[0]
    conn.execute("UPDATE xp.settings SET value = '\"off\"' WHERE key = 'web.visibility'")
    client = make_client()
    sign_in_telegram(client, sandbox, "5")
    for path in ("/", f"/u/{uid}", "/ranks"):
        assert client.get(path).status_code == 403
    assert client.get("/healthz").status_code == 200


def test_a_database_failure_is_a_clear_page_not_a_traceback(make_client, conn):
    client = make_client(raise_server_exceptions=False)
    conn.execute("REVOKE EXECUTE ON FUNCTION xp.rank_ladder() FROM xp_web")
    r = client.get("/ranks")
    assert r.status_code == 500 and "Something went wrong" in r.text and "Traceback" not in r.text
    assert "rank_ladder" not in r.text
