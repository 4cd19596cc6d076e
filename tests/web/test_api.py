"""The JSON API: shapes, keys, visibility, rate limits, JSON errors, OpenAPI and docs, healthz."""

from __future__ import annotations

import pytest

from tests.helpers import call, scalar


def key(conn, name="bot"):
    return scalar(conn, "SELECT xp.create_api_key(%s)", name)


def test_the_leaderboard_pages_with_total_and_ranks(client, conn):
    for i in range(15):
        call(conn, "award_xp", "discord", str(i), 300 - i, "r", f"k{i}", f"p{i}")
    r = client.get("/api/v1/leaderboard?limit=5&offset=10")
    assert r.status_code == 200
    body = r.json()
    assert body["period"] == "all" and body["total"] == 15
    assert [e["place"] for e in body["entries"]] == [11, 12, 13, 14, 15]
    entry = body["entries"][0]
    assert entry["display_name"] == "p10" and entry["xp"] == 290
    assert entry["rank"] == {"id": 2, "name": "F II", "tier": "F", "stars": 2, "color": "#9E9E9E", "emoji": "🌱"}
    assert client.get("/api/v1/leaderboard").json()["entries"][0]["place"] == 1
    assert len(client.get("/api/v1/leaderboard").json()["entries"]) == 10
    assert client.get("/api/v1/leaderboard?offset=100").json()["entries"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "period=year", "limit=x"])
def test_bad_parameters_are_a_json_400(client, query):
    r = client.get("/api/v1/leaderboard?" + query)
    assert r.status_code == 400 and set(r.json()) == {"error"} and r.json()["error"]


def test_the_season_board_without_a_season_is_a_json_400(client):
    r = client.get("/api/v1/leaderboard?period=season")
    assert r.status_code == 400 and "no season" in r.json()["error"]


def test_a_person_by_account_shows_only_the_public_part(client, conn):
    call(conn, "award_xp", "telegram", "555", 300, "r", "k1", "Ann")
    conn.execute("SELECT xp.set_language('telegram', '555', 'ru')")
    r = client.get("/api/v1/people/telegram/555")
    assert r.status_code == 200
    body = r.json()
    assert body["display_name"] == "Ann" and body["rank"]["name"] == "F II" and body["platforms"] == ["telegram"]
    assert body["places"] == {"all": 1, "season": None, "month": 1, "week": 1}
    assert body["next_rank"]["xp_remaining"] == 470
    assert "555" not in r.text and "language" not in body and "notify" not in body and "accounts" not in body


def test_unknown_hidden_and_malformed_people_are_json_errors(client, conn):
    call(conn, "award_xp", "discord", "1", 50, "r", "k1")
    conn.execute("SELECT xp.set_privacy('discord', '1', true)")
    assert client.get("/api/v1/people/discord/1").status_code == 404
    assert client.get("/api/v1/people/discord/2").json() == {"error": "nobody public has that account"}
    assert client.get("/api/v1/people/myspace/1").status_code == 400
    assert client.get("/api/v1/people/discord/" + "1" * 201).status_code == 400
    assert client.get("/api/v1/nothing").json() == {"error": "not found"}


def test_keys_are_checked_and_visibility_off_needs_one(client, conn):
    good = key(conn)
    conn.execute("UPDATE xp.settings SET value = '\"off\"' WHERE key = 'web.visibility'")
    import time

    time.sleep(1.1)  # the web re-reads its settings every second
    anonymous = client.get("/api/v1/leaderboard")
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["error"]
    assert client.get("/api/v1/leaderboard", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    for header in (f"Bearer {good}x", "Basic abc", "Bearer ", good):
        r = client.get("/api/v1/leaderboard", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["error"], header
    conn.execute("SELECT xp.revoke_api_key('bot')")
    assert client.get("/api/v1/leaderboard", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_120_requests_a_minute_per_key_or_address_then_429_with_retry_after(client, conn):
    for _ in range(120):
        assert client.get("/api/v1/leaderboard").status_code == 200
    refused = client.get("/api/v1/leaderboard")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "120 requests a minute" in refused.json()["error"]
    # a key has its own allowance
    good = key(conn)
    assert client.get("/api/v1/leaderboard", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_openapi_and_docs_are_served_locally(client):
    spec = client.get("/api/openapi.json").json()
    assert set(spec["paths"]) == {"/api/v1/leaderboard", "/api/v1/people/{platform}/{external_id}"}
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "http" not in docs.text.replace("http-equiv", "")  # nothing from elsewhere
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger-init.js").status_code == 200
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]


def test_healthz_answers_while_the_database_does(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_healthz_is_503_within_5_seconds_when_the_database_does_not_answer(make_client, conn, server):
    import time

    import psycopg

    client = make_client()
    db = scalar(conn, "SELECT current_database()")
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        # the web's connections are cut and new ones refused
        admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (db,))
            started = time.monotonic()
            r = client.get("/healthz")
            assert r.status_code == 503 and r.json() == {"ok": False, "error": "the database did not answer"}
            assert time.monotonic() - started < 5
        finally:
            admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
    assert client.get("/healthz").status_code == 200
