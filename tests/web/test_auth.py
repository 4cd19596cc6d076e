"""Sign-in with Discord (OAuth2 through the sandbox) and Telegram (Login Widget hash), linking by
signing in with the other platform, sign-out, the privacy toggle, and every refusal on the way."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.helpers import call, scalar, telegram_login
from tests.web.conftest import csrf_of, query_of, sign_in_discord, sign_in_telegram, telegram_state


def person_of(conn, platform, external_id):
    return scalar(conn, "SELECT xp.account_person(%s, %s)", platform, external_id)


def test_discord_sign_in_runs_the_code_flow_with_a_state_bound_to_the_session(client, sandbox, conn):
    start = client.get("/auth/discord")
    assert start.status_code == 303
    asked = query_of(start.headers["location"])
    assert start.headers["location"].startswith(sandbox.url + "/discord/oauth2/authorize?")
    assert asked["scope"] == ["identify guilds"] and asked["client_id"] == [sandbox.oauth.client_id]
    assert asked["redirect_uri"] == ["http://testserver/auth/discord/callback"] and len(asked["state"][0]) >= 32
    done = sign_in_discord(client, sandbox, "400000000000000001", "Dana", guilds=[("9", "g", 0x20), ("8", "h", 0x400)])
    uid = person_of(conn, "discord", "400000000000000001")
    assert done.status_code == 303 and done.headers["location"] == f"/u/{uid}"
    page = client.get(f"/u/{uid}")
    assert 'id="me"' in page.text and 'id="privacy"' in page.text and "Dana" in page.text


@pytest.mark.parametrize("case", ["no state in session", "wrong state", "expired state", "denied", "bad code"])
def test_discord_callback_refusals_are_clear_pages(client, sandbox, case, monkeypatch):
    if case == "no state in session":
        r = client.get("/auth/discord/callback?code=x&state=y")
    else:
        start = client.get("/auth/discord")
        state = query_of(start.headers["location"])["state"][0]
        if case == "wrong state":
            r = client.get(f"/auth/discord/callback?code=x&state={state}x")
        elif case == "expired state":
            real = time.time
            monkeypatch.setattr(time, "time", lambda: real() + 601)
            r = client.get(f"/auth/discord/callback?code=x&state={state}")
        elif case == "denied":
            r = client.get(f"/auth/discord/callback?error=access_denied&state={state}")
        else:
            r = client.get(f"/auth/discord/callback?code=forged&state={state}")
    assert r.status_code == 400 and "sign in again" in r.text and "Traceback" not in r.text
    assert client.get("/").text.count('id="me"') == 0


def test_a_state_is_used_once(client, sandbox):
    sandbox.oauth.login_as("507", "a")
    start = client.get("/auth/discord")
    import httpx2

    back = httpx2.get(start.headers["location"], follow_redirects=False).headers["location"]
    path = back[back.index("/auth/"):]
    assert client.get(path).status_code == 303
    assert client.get(path).status_code == 400


def test_without_discord_settings_auth_discord_is_404_and_the_button_hidden(make_client, sandbox):
    client = make_client(DISCORD_CLIENT_ID="", DISCORD_CLIENT_SECRET="", TELEGRAM_BOT_USERNAME="")
    assert client.get("/auth/discord").status_code == 404
    assert client.get("/auth/discord/callback?code=a&state=b").status_code == 404
    assert client.get("/auth/telegram?id=1&hash=x").status_code == 404
    assert 'id="sign-in"' not in client.get("/").text
    assert "discord-sign-in" not in client.get("/sign-in").text


def test_the_sign_in_page_offers_both_and_allows_only_telegrams_widget(client):
    r = client.get("/sign-in?next=/ranks")
    assert 'id="discord-sign-in" href="/auth/discord?next=%2Franks"' in r.text
    assert 'data-telegram-login="xpsync_sandbox_bot"' in r.text
    assert 'data-auth-url="http://testserver/auth/telegram?next=%2Franks&amp;state=' in r.text
    assert 'href="/auth/discord"' in client.get("/sign-in").text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self' https://telegram.org" in csp and "frame-ancestors 'none'" in csp
    assert "telegram.org" not in client.get("/").headers["content-security-policy"]


def test_telegram_sign_in_checks_the_widget_hash_and_age(client, sandbox, conn):
    token = sandbox.telegram.token
    good = telegram_login(token, "5005", "Tanya", username="tanya")
    forged = {**good, "first_name": "Mallory"}
    old = telegram_login(token, "5005", auth_date=int(time.time()) - 86_401)
    other_bot = telegram_login("2:other", "5005")
    for fields in (forged, old, other_bot, {k: v for k, v in good.items() if k != "hash"}, {"hash": "x"}):
        r = client.get("/auth/telegram?" + urlencode({**fields, "state": telegram_state(client)}))
        assert r.status_code == 400 and "could not be verified" in r.text
    assert person_of(conn, "telegram", "5005") is None
    r = client.get("/auth/telegram?" + urlencode({**good, "state": telegram_state(client)}))
    uid = person_of(conn, "telegram", "5005")
    assert r.status_code == 303 and r.headers["location"] == f"/u/{uid}"
    assert scalar(conn, "SELECT display_name FROM xp.users WHERE id = %s", uid) == "Tanya"


@pytest.mark.parametrize("target, lands", [
    ("/ranks", "/ranks"), ("/?period=week", "/?period=week"), ("https://evil.example/", "/"),
    ("//evil.example/", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("evil.example", "/"),
    ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),
])
def test_next_only_ever_leads_to_a_path_on_this_site(client, sandbox, target, lands):
    r = sign_in_telegram(client, sandbox, "6006", next=target)
    assert r.status_code == 303 and r.headers["location"] == lands


def test_discord_next_is_kept_through_the_flow(client, sandbox):
    sandbox.oauth.login_as("506", "n")
    start = client.get("/auth/discord?next=https://evil.example")
    import httpx2

    back = httpx2.get(start.headers["location"], follow_redirects=False).headers["location"]
    assert client.get(back[back.index("/auth/"):]).headers["location"] == "/"


def test_sign_in_is_limited_to_10_attempts_a_minute_per_address(client, sandbox):
    for _ in range(10):
        assert client.get("/auth/telegram?id=1&auth_date=1&hash=x").status_code == 400
    r = sign_in_telegram(client, sandbox, "8008")
    assert r.status_code == 429 and "Too many attempts" in r.text


def test_signing_in_with_the_other_platform_links_after_a_confirmation_page(client, sandbox, conn):
    call(conn, "award_xp", "telegram", "9009", 500, "r", "k1", "Tel")
    sign_in_discord(client, sandbox, "900", "Dis")
    call(conn, "award_xp", "discord", "900", 300, "r", "k2")
    r = sign_in_telegram(client, sandbox, "9009", "Tel")
    assert r.status_code == 303 and r.headers["location"] == "/link"
    page = client.get("/link")
    assert page.status_code == 200
    assert "Dis (Discord)" in page.text and "Tel (Telegram)" in page.text and 'id="preview"' in page.text
    assert "900" in page.text  # the sum, before rewards, appears in the preview
    assert person_of(conn, "telegram", "9009") != person_of(conn, "discord", "900")  # nothing written yet
    assert client.post("/link", data={"csrf": "forged"}).status_code == 403
    done = client.post("/link", data={"csrf": csrf_of(client, "/link")})
    uid = person_of(conn, "discord", "900")
    assert done.status_code == 303 and done.headers["location"] == f"/u/{uid}"
    assert person_of(conn, "telegram", "9009") == uid
    merged = client.get(f"/u/{uid}").text
    assert "Linked: one person, one progression." in merged and "Telegram" in merged and "Two worlds" in merged
    assert scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", uid) >= 800


def test_linking_is_refused_as_link_codes_are_when_both_have_that_platform(client, sandbox, conn):
    call(conn, "award_xp", "telegram", "601", 50, "r", "k1")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '601')")
    conn.execute("SELECT xp.redeem_link_code('discord', '501', %s)", (code,))
    sign_in_discord(client, sandbox, "502", "Me")
    r = sign_in_telegram(client, sandbox, "601")
    assert r.headers["location"] == "/link"
    page = client.get("/link")
    assert page.status_code == 409 and 'id="refused"' in page.text and "both have a discord account" in page.text
    assert 'id="link-confirm"' not in page.text
    assert client.post("/link", data={"csrf": csrf_of(client, "/ranks")}).status_code == 409
    assert person_of(conn, "telegram", "601") != person_of(conn, "discord", "502")


def test_cancelling_a_link_keeps_both_apart(client, sandbox, conn):
    sign_in_discord(client, sandbox, "503", "C")
    sign_in_telegram(client, sandbox, "602")
    assert client.post("/link/cancel", data={"csrf": csrf_of(client, "/link")}).headers["location"] == "/"
    assert client.get("/link").status_code == 400
    assert person_of(conn, "telegram", "602") is None


def test_a_pending_link_expires(client, sandbox, monkeypatch):
    sign_in_discord(client, sandbox, "504", "E")
    sign_in_telegram(client, sandbox, "603")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 601)
    assert client.get("/link").status_code == 400


def test_signing_in_again_with_an_already_linked_account_just_signs_in(client, sandbox, conn):
    call(conn, "award_xp", "telegram", "604", 50, "r", "k1")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '604')")
    conn.execute("SELECT xp.redeem_link_code('discord', '505', %s)", (code,))
    sign_in_discord(client, sandbox, "505", "L")
    r = sign_in_telegram(client, sandbox, "604")
    assert r.headers["location"] == f"/u/{person_of(conn, 'telegram', '604')}"


def test_sign_out_needs_the_csrf_token(client, sandbox):
    sign_in_telegram(client, sandbox, "605")
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf": "nope"}).status_code == 403
    assert 'id="me"' in client.get("/").text
    assert client.post("/sign-out", data={"csrf": csrf_of(client)}).status_code == 303
    assert 'id="me"' not in client.get("/").text


def test_the_privacy_toggle_on_ones_own_profile(client, make_client, sandbox, conn):
    sign_in_telegram(client, sandbox, "606", "Priv")
    call(conn, "award_xp", "telegram", "606", 50, "r", "k1")
    uid = person_of(conn, "telegram", "606")
    assert client.post("/me/privacy", data={"hidden": "on"}).status_code == 403  # no token
    token = csrf_of(client, f"/u/{uid}")
    assert client.post("/me/privacy", data={"hidden": "on", "csrf": token}).headers["location"] == f"/u/{uid}"
    assert scalar(conn, "SELECT hidden FROM xp.users WHERE id = %s", uid) is True
    assert make_client().get(f"/u/{uid}").status_code == 404
    client.post("/me/privacy", data={"hidden": "off", "csrf": token})
    assert scalar(conn, "SELECT hidden FROM xp.users WHERE id = %s", uid) is False
    assert make_client().post("/me/privacy", data={"hidden": "on", "csrf": token}).status_code == 403


def test_a_forgotten_member_is_signed_out(client, sandbox, conn):
    sign_in_telegram(client, sandbox, "607")
    conn.execute("SELECT xp.forget_person(%s)", (person_of(conn, "telegram", "607"),))
    assert 'id="me"' not in client.get("/").text


def test_a_telegram_sign_in_must_start_on_our_sign_in_page_in_this_browser(make_client, sandbox, conn):
    """Login CSRF: the widget's redirect carries no state of Telegram's, so a link crafted with the
    attacker's own signed fields must not sign a victim's browser in as the attacker."""
    attacker, victim = make_client(), make_client()
    crafted = telegram_login(sandbox.telegram.token, "6660", "Mallory")
    r = victim.get("/auth/telegram?" + urlencode(crafted))  # the victim never opened our sign-in page
    assert r.status_code == 400 and "did not start here" in r.text
    # the attacker's own state (from their sign-in page) is of no use in another browser
    state = telegram_state(attacker)
    telegram_state(victim)
    r = victim.get("/auth/telegram?" + urlencode({**crafted, "state": state}))
    assert r.status_code == 400
    assert person_of(conn, "telegram", "6660") is None
    assert 'id="sign-out"' not in victim.get("/").text
    # started here, it signs in once; the same redirect again is refused
    r = sign_in_telegram(victim, sandbox, "6661")
    assert r.status_code == 303
    replay = r.request.url
    assert victim.get(replay).status_code == 400
