"""Who enters the admin panel and what they may do: Discord managers of an admin guild, login links
(once, before they expire, unless revoked, after one click), viewers who change nothing, CSRF on
every change, and a panel without the admin login that is read-only for everyone."""

from __future__ import annotations

import time

import pytest

from tests.helpers import call, scalar
from tests.web.conftest import ADMIN_GUILD, admin_env, csrf_of, login_token, sign_in_admin, sign_in_discord
from xpsync.web.admin import access

# every change the panel makes, with the fields a real form sends
CHANGES = [
    ("/admin/people/{uid}/adjust", {"kind": "xp", "amount": "10", "reason": "r"}),
    ("/admin/people/{uid}/resync", {}),
    ("/admin/people/{uid}/unlink", {"platform": "discord", "external_id": "1"}),
    ("/admin/people/{uid}/forget", {"confirm": "{uid}"}),
    ("/admin/deliveries/retry", {"every": "yes"}),
    ("/admin/deliveries/discard", {"every": "yes"}),
    ("/admin/settings/daily.coins", {"value": "60"}),
    ("/admin/tables/multipliers/insert", {"factor": "2", "starts_at": "2030-01-01T00:00", "ends_at": "2030-01-02T00:00",
                                          "reason": "x", "platform": "", "chat_id": ""}),
    ("/admin/tables/rank_roles/delete", {"key.guild_id": "g", "key.rank_id": "2"}),
    ("/admin/ranks/apply", {"change": '{{"2": 300}}', "effects": "{{}}"}),
    ("/admin/reconcile/apply", {}),
    ("/admin/void/apply", {"since": "2030-01-01T00:00", "until": "2030-01-02T00:00", "upto": "1", "digest": "x",
                           "note": "n"}),
]


@pytest.fixture
def person(conn):
    uid = call(conn, "award_xp", "discord", "1", 300, "r", "k1", "Ann")["user_id"]
    call(conn, "redeem_link_code", "telegram", "2", scalar(conn, "SELECT xp.create_link_code('discord', '1')"))
    return uid


def world(conn):
    return [conn.execute(f"SELECT * FROM xp.{t} ORDER BY 1").fetchall()
            for t in ("users", "accounts", "ledger", "deliveries", "settings", "multipliers", "ranks", "admin_audit")]


def post_every_change(client, uid, csrf):
    statuses = []
    for path, fields in CHANGES:
        data = {k: v.format(uid=uid) for k, v in fields.items()}
        if csrf is not None:
            data["csrf"] = csrf
        statuses.append(client.post(path.format(uid=uid), data=data).status_code)
    return statuses


def test_an_anonymous_visitor_gets_the_way_in_and_no_data(make_client, db_url, person):
    client = make_client(**admin_env(db_url))
    r = client.get("/admin")
    assert r.status_code == 401 and "admin-token create" in r.text and 'id="discord-sign-in"' in r.text
    for path in (f"/admin/people/{person}", "/admin/audit", "/admin/settings"):
        assert client.get(path).status_code == 401
    assert client.get("/admin/fragments/overview", headers={"HX-Request": "true"}).status_code == 401
    assert client.get("/admin/events").status_code == 401
    assert "Ann" not in client.get(f"/admin/people/{person}").text


def test_a_discord_manager_of_an_admin_guild_is_an_admin_named_by_discord(make_client, db_url, sandbox, conn, person):
    client = make_client(**admin_env(db_url))
    sign_in_discord(client, sandbox, "700000000000000009", "Mod", guilds=[(ADMIN_GUILD, "Community", 0x20)])
    assert client.get("/admin").status_code == 200
    r = client.post(f"/admin/people/{person}/adjust", data={"kind": "coins", "amount": "5", "reason": "thanks",
                                                           "csrf": csrf_of(client, "/admin")})
    assert r.status_code == 303
    actor = "discord:700000000000000009 Mod"
    assert scalar(conn, "SELECT actor FROM xp.ledger WHERE source = 'admin'") == actor
    assert scalar(conn, "SELECT actor FROM xp.admin_audit WHERE action = 'person.adjust'") == actor


@pytest.mark.parametrize("guilds", [[("111", "Elsewhere", 0x20)], [(ADMIN_GUILD, "Community", 0x400)], []])
def test_a_discord_member_who_does_not_manage_an_admin_guild_is_refused(make_client, db_url, sandbox, guilds):
    client = make_client(**admin_env(db_url))
    sign_in_discord(client, sandbox, "700000000000000010", "Member", guilds=guilds)
    r = client.get("/admin")
    assert r.status_code == 403 and 'id="refused"' in r.text


def test_an_administrator_of_an_admin_guild_enters(make_client, db_url, sandbox):
    client = make_client(**admin_env(db_url))
    sign_in_discord(client, sandbox, "700000000000000011", "Boss", guilds=[(ADMIN_GUILD, "Community", 0x8)])
    assert client.get("/admin").status_code == 200


def test_a_login_link_asks_for_a_click_then_signs_in_once(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    token = login_token(conn, "alice", "admin")
    page = client.get(f"/admin/login?token={token}")
    assert page.status_code == 200 and 'id="login-button"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert scalar(conn, "SELECT used_at FROM xp.admin_tokens") is None  # opening the link uses nothing
    csrf = csrf_of(client, f"/admin/login?token={token}")
    r = client.post("/admin/login", data={"token": token, "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert "alice" in client.get("/admin").text
    other = make_client(**admin_env(db_url))
    again = other.post("/admin/login", data={"token": token, "csrf": csrf_of(other, f"/admin/login?token={token}")})
    assert again.status_code == 400 and "used already" in again.text
    assert other.get("/admin").status_code == 401


def test_an_expired_unknown_or_forged_login_link_signs_in_nobody(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    expired = login_token(conn, "bob", "admin", "1 minute")
    conn.execute("UPDATE xp.admin_tokens SET created_at = now() - interval '2 minutes', "
                 "expires_at = now() - interval '1 second'")
    csrf = csrf_of(client, "/admin/login?token=xpa_any")
    for token in (expired, "xpa_" + "x" * 43, "not-a-token", ""):
        r = client.post("/admin/login", data={"token": token, "csrf": csrf})
        assert r.status_code == 400, token
    assert client.get("/admin").status_code == 401
    fresh = login_token(conn, "carol", "admin")
    assert client.post("/admin/login", data={"token": fresh, "csrf": "wrong"}).status_code == 403
    assert client.post("/admin/login", data={"token": fresh}).status_code == 403
    assert scalar(conn, "SELECT used_at FROM xp.admin_tokens WHERE name = 'carol'") is None


def test_a_revoked_link_signs_its_session_out_and_a_session_ends_after_its_hours(make_client, db_url, conn,
                                                                                 monkeypatch):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn, "dave")
    assert client.get("/admin").status_code == 200
    conn.execute("SELECT xp.revoke_admin_tokens('dave')")
    assert client.get("/admin").status_code == 401
    sign_in_admin(client, conn, "erin")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + access.SESSION_HOURS * 3600 + 1)
    assert client.get("/admin").status_code == 401


def test_a_viewer_sees_everything_and_changes_nothing(make_client, db_url, conn, person):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn, "vic", "viewer")
    for path in ("/admin", f"/admin/people/{person}", "/admin/deliveries", "/admin/settings", "/admin/ranks",
                 "/admin/audit", "/admin/tables/rank_roles"):
        r = client.get(path)
        assert r.status_code == 200 and 'id="viewer"' in r.text, path
    page = client.get(f"/admin/people/{person}").text
    assert 'id="adjust"' not in page and "unlink" not in page.split('id="accounts"')[1].split("</table>")[0]
    before = world(conn)
    assert post_every_change(client, person, csrf_of(client, "/admin")) == [403] * len(CHANGES)
    assert world(conn) == before


@pytest.mark.parametrize("csrf", [None, "wrong"])
def test_a_change_without_the_sessions_csrf_token_is_refused(make_client, db_url, conn, person, csrf):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn)
    before = world(conn)
    assert post_every_change(client, person, csrf) == [403] * len(CHANGES)
    assert world(conn) == before
    # htmx sends the token in a header instead
    r = client.post(f"/admin/people/{person}/resync", headers={"X-CSRF-Token": csrf_of(client, "/admin")})
    assert r.status_code == 303


def test_without_the_admin_login_the_panel_is_read_only_for_everyone(make_client, db_url, conn, person):
    client = make_client(XPSYNC_ADMIN_GUILDS=ADMIN_GUILD)  # no XPSYNC_ADMIN_DATABASE_URL
    sign_in_admin(client, conn, "alice", "admin")
    page = client.get(f"/admin/people/{person}")
    assert page.status_code == 200 and 'id="read-only"' in page.text and 'id="adjust"' not in page.text
    before = world(conn)
    assert post_every_change(client, person, csrf_of(client, "/admin")) == [403] * len(CHANGES)
    assert world(conn) == before
    r = client.post("/admin/reconcile/dry-run", data={"csrf": csrf_of(client, "/admin")})
    assert r.status_code == 403  # reconcile is the admin login's alone, even a dry run


def test_signing_out_of_the_panel(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn)
    assert client.post("/admin/sign-out", data={"csrf": "wrong"}).status_code == 403
    assert client.post("/admin/sign-out", data={"csrf": csrf_of(client, "/admin")}).status_code == 303
    assert client.get("/admin").status_code == 401
