"""Every change of the admin panel over HTTP: what it does, that the audit log names the operator,
and that a bad value is a clear page with nothing written."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import assert_consistent, call, scalar
from tests.web.conftest import admin_env, csrf_of, sign_in_admin


@pytest.fixture
def admin(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn, "alice")
    client.csrf = csrf_of(client, "/admin")
    return client


@pytest.fixture
def ann(conn):
    uid = call(conn, "award_xp", "discord", "1", 300, "r", "k1", "Ann")["user_id"]
    call(conn, "redeem_link_code", "telegram", "2", scalar(conn, "SELECT xp.create_link_code('discord', '1')"))
    return uid


def post(client, path, **data):
    return client.post(path, data={"csrf": client.csrf, **data})


def audit(conn):
    rows = conn.execute("SELECT actor, action, target FROM xp.admin_audit WHERE action NOT LIKE 'admin%%' ORDER BY id")
    return [(r["actor"], r["action"], r["target"]) for r in rows]


def snapshot(conn):
    return [conn.execute(f"SELECT * FROM xp.{t} ORDER BY 1").fetchall()
            for t in ("users", "accounts", "ledger", "deliveries", "settings", "multipliers", "seasons", "ranks")]


def flash(client, path):
    found = re.search(r'id="flash">([^<]*)<', client.get(path).text)
    return found.group(1) if found else None


# --- a person -----------------------------------------------------------------------------------------


def balances(conn, uid):
    return conn.execute("SELECT xp, coins FROM xp.users WHERE id = %s", (uid,)).fetchone()


def test_adjusting_a_balance_writes_a_ledger_row_with_the_operator(admin, conn, ann):
    before = balances(conn, ann)
    r = post(admin, f"/admin/people/{ann}/adjust", kind="coins", amount="-20", reason="refund")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/people/{ann}"
    assert f"now {before['xp']} XP and {before['coins'] - 20} coins" in flash(admin, f"/admin/people/{ann}")
    row = conn.execute("SELECT delta, reason, actor, source FROM xp.ledger ORDER BY id DESC LIMIT 1").fetchone()
    assert row == {"delta": -20, "reason": "admin: refund", "actor": "alice", "source": "admin"}
    assert audit(conn) == [("alice", "person.adjust", str(ann))]
    page = admin.get(f"/admin/people/{ann}").text
    assert "admin: refund" in page and "alice" in page  # on the person's ledger at once


@pytest.mark.parametrize(("fields", "says"), [
    ({"kind": "xp", "amount": "10001", "reason": "too much"}, "at most 10000"),
    ({"kind": "coins", "amount": "-500", "reason": "more than they have"}, "below zero"),
    ({"kind": "xp", "amount": "5", "reason": ""}, "reason must not be empty"),
    ({"kind": "gold", "amount": "5", "reason": "r"}, "xp or coins"),
    ({"kind": "xp", "amount": "five", "reason": "r"}, "whole amount"),
])
def test_a_bad_adjustment_is_a_clear_page_and_writes_nothing(admin, conn, ann, fields, says):
    before = snapshot(conn)
    r = post(admin, f"/admin/people/{ann}/adjust", **fields)
    assert r.status_code == 400 and says in r.text and "Traceback" not in r.text
    assert snapshot(conn) == before


def test_resync_unlink_and_forget(admin, conn, ann):
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now()")  # nothing waiting for Discord
    assert post(admin, f"/admin/people/{ann}/resync").status_code == 303
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'roles_resync'") == 1
    # unlinking: not someone else's account, not the only one
    assert post(admin, f"/admin/people/{ann}/unlink", platform="telegram", external_id="999").status_code == 400
    assert post(admin, f"/admin/people/{ann}/unlink", platform="telegram", external_id="2").status_code == 303
    new = scalar(conn, "SELECT xp.account_person('telegram', '2')")
    assert new != ann and scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", ann) == 400  # kept it all
    r = post(admin, f"/admin/people/{ann}/unlink", platform="discord", external_id="1")
    assert r.status_code == 400 and "only account" in r.text
    # forgetting asks first: the id typed
    assert 'id="forget-confirm"' in admin.get(f"/admin/people/{ann}/forget").text
    assert post(admin, f"/admin/people/{ann}/forget", confirm="").status_code == 400
    assert post(admin, f"/admin/people/{ann}/forget", confirm=str(new)).status_code == 400
    assert scalar(conn, "SELECT forgotten_at FROM xp.users WHERE id = %s", ann) is None
    assert post(admin, f"/admin/people/{ann}/forget", confirm=str(ann)).status_code == 303
    assert scalar(conn, "SELECT forgotten_at FROM xp.users WHERE id = %s", ann) is not None
    assert audit(conn) == [("alice", "person.resync_roles", str(ann)), ("alice", "account.unlink", "telegram:2"),
                           ("alice", "person.forget", str(ann))]


def test_people_are_found_by_name_and_platform_id(admin, conn, ann):
    call(conn, "award_xp", "telegram", "777", 10, "r", "k2", "Bob")
    rows = admin.get("/admin/people?q=an", headers={"HX-Request": "true"}).text
    assert f'data-user="{ann}"' in rows and "Bob" not in rows and "<html" not in rows
    assert "Bob" in admin.get("/admin/people?q=777").text
    assert admin.get("/admin/people/abc").status_code == 404 and admin.get("/admin/people/999999").status_code == 404


# --- deliveries ----------------------------------------------------------------------------------------


def test_deliveries_are_filtered_and_retried_or_discarded_one_or_all(admin, conn):
    for i in range(3):
        call(conn, "award_xp", "discord", str(10 + i), 300, "r", f"d{i}")
    ids = [r["id"] for r in conn.execute("SELECT id FROM xp.deliveries ORDER BY id")]
    conn.execute("UPDATE xp.deliveries SET status = 'failed', last_error = 'Missing Access', finished_at = now()")
    page = admin.get("/admin/deliveries?status=failed&error=missing").text
    assert "3 match." in page and all(f'data-delivery="{i}"' in page for i in ids)
    assert admin.get("/admin/deliveries?status=lost").status_code == 400
    r = post(admin, "/admin/deliveries/retry", delivery=str(ids[0]), status="failed")
    assert r.status_code == 303 and r.headers["location"] == "/admin/deliveries?status=failed"
    assert scalar(conn, "SELECT status FROM xp.deliveries WHERE id = %s", ids[0]) == "pending"
    assert post(admin, "/admin/deliveries/discard", every="yes", status="failed").status_code == 303
    assert [r["status"] for r in conn.execute("SELECT status FROM xp.deliveries ORDER BY id")] == \
        ["pending", "discarded", "discarded"]
    assert post(admin, "/admin/deliveries/retry", every="yes", status="discarded", target="discord").status_code == 303
    assert {r["status"] for r in conn.execute("SELECT status FROM xp.deliveries")} == {"pending"}
    assert post(admin, "/admin/deliveries/retry", delivery="x").status_code == 400
    assert [a[1] for a in audit(conn)] == ["deliveries.retry", "deliveries.discard", "deliveries.retry"]


# --- settings and the operator tables -----------------------------------------------------------------------


def test_a_setting_is_saved_checked_and_audited(admin, conn):
    r = post(admin, "/admin/settings/message.cooldown_seconds", value="30")
    assert r.status_code == 303
    version = scalar(conn, "SELECT xp.config_version()")
    assert f"change #{version}" in flash(admin, "/admin/settings")
    assert scalar(conn, "SELECT value FROM xp.settings WHERE key = 'message.cooldown_seconds'") == 30
    assert post(admin, "/admin/settings/web.visibility", value="members").status_code == 303
    assert post(admin, "/admin/settings/notices.languages", value="en\nru\n").status_code == 303
    assert scalar(conn, "SELECT value FROM xp.settings WHERE key = 'notices.languages'") == ["en", "ru"]
    assert audit(conn) == [("alice", "settings.update", "message.cooldown_seconds"),
                           ("alice", "settings.update", "web.visibility")]  # the languages did not change


@pytest.mark.parametrize(("key", "value", "says"), [
    ("message.cooldown_seconds", "-5", "must be at least 0"),
    ("message.cooldown_seconds", "soon", "not a number"),
    ("web.visibility", "everyone", "must be one of"),
    ("message.xp_min", "99", "must not be above message.xp_max"),
    ("notices.languages", "de", "not one of"),
])
def test_a_bad_setting_is_a_clear_page_and_changes_nothing(admin, conn, key, value, says):
    before = snapshot(conn)
    r = post(admin, f"/admin/settings/{key}", value=value)
    assert r.status_code == 400 and says in r.text
    assert snapshot(conn) == before
    assert post(admin, "/admin/settings/no.such.key", value="1").status_code == 404


def test_operator_table_rows_are_added_changed_and_deleted_as_from_psql(admin, conn):
    r = post(admin, "/admin/tables/multipliers/insert", factor="2", platform="", chat_id="",
             starts_at="2030-01-01T00:00", ends_at="2030-01-03T00:00", reason="weekend")
    assert r.status_code == 303
    row = conn.execute("SELECT * FROM xp.multipliers").fetchone()
    assert (row["factor"], row["reason"], row["starts_at"]) == (2, "weekend", datetime(2030, 1, 1, tzinfo=UTC))
    r = post(admin, "/admin/tables/multipliers/update", **{"key.id": str(row["id"])}, factor="1.5", platform="",
             chat_id="", starts_at="2030-01-01T00:00", ends_at="2030-01-03T00:00", reason="weekend")
    assert r.status_code == 303 and scalar(conn, "SELECT factor FROM xp.multipliers") == 1.5
    assert post(admin, "/admin/tables/multipliers/delete", **{"key.id": str(row["id"])}).status_code == 303
    assert scalar(conn, "SELECT count(*) FROM xp.multipliers") == 0
    # a mapping queues everyone's role resync, as a psql INSERT does
    call(conn, "award_xp", "discord", "5", 300, "r", "k5")
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now()")  # nothing waiting for Discord
    assert post(admin, "/admin/tables/rank_roles/insert", guild_id="42", rank_id="2", role_id="9001").status_code == 303
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'roles_resync'") == 1
    assert post(admin, "/admin/tables/ranks/update", **{"key.id": "2"}, name="Bronze", tier="F", stars="2",
                color="#AA7733", emoji="🥉", reward_coins="50").status_code == 303
    assert scalar(conn, "SELECT name FROM xp.ranks WHERE id = 2") == "Bronze"
    assert [a[1] for a in audit(conn)] == ["multipliers.insert", "multipliers.update", "multipliers.delete",
                                           "rank_roles.insert", "ranks.update"]
    assert {a[0] for a in audit(conn)} == {"alice"}


@pytest.mark.parametrize(("path", "fields", "says"), [
    ("/admin/tables/multipliers/insert", {"factor": "5", "platform": "", "chat_id": "", "starts_at": "2030-01-01T00:00",
                                          "ends_at": "2030-01-02T00:00", "reason": ""}, "multipliers_factor_check"),
    ("/admin/tables/multipliers/insert", {"factor": "x", "platform": "", "chat_id": "", "starts_at": "2030-01-01T00:00",
                                          "ends_at": "2030-01-02T00:00", "reason": ""}, "factor is not a valid number"),
    ("/admin/tables/seasons/insert", {"name": "S", "starts_on": "2030-02-01", "ends_on": "2030-01-01"},
     "seasons_check"),
    ("/admin/tables/rank_roles/insert", {"guild_id": "42", "rank_id": "99", "role_id": "1"}, "rank_roles_rank_id_fkey"),
    ("/admin/tables/achievements/insert", {"code": "Bad Code", "name": "n", "description": "", "emoji": "x",
                                           "criterion": "messages", "threshold": "1", "reward_xp": "0",
                                           "reward_coins": "0", "translations": "{}"}, "achievements_code_check"),
    ("/admin/tables/achievements/insert", {"code": "ok", "name": "n", "description": "", "emoji": "x",
                                           "criterion": "luck", "threshold": "1", "reward_xp": "0",
                                           "reward_coins": "0", "translations": "{}"}, "criterion must be one of"),
    ("/admin/tables/ranks/delete", {"key.id": "2"}, None),
    ("/admin/tables/ledger/insert", {}, None),
])
def test_a_row_a_table_refuses_is_a_clear_page_and_changes_nothing(admin, conn, path, fields, says):
    before = snapshot(conn)
    r = post(admin, path, **fields)
    assert r.status_code in (400, 404) and "Traceback" not in r.text
    if says:
        assert r.status_code == 400 and says in r.text, r.text
    assert snapshot(conn) == before


# --- thresholds, reconcile, void ---------------------------------------------------------------------------


def test_a_threshold_preview_then_applying_exactly_it(admin, conn):
    for i, xp in enumerate((260, 280, 800)):
        call(conn, "award_xp", "discord", str(20 + i), xp, "r", f"t{i}")
    page = post(admin, "/admin/ranks/preview", **{"min_xp.2": "290", "min_xp.3": "770"})
    assert page.status_code == 200 and 'id="preview"' in page.text
    effects = json.loads(html.unescape(re.search(r'name="effects" value="([^"]+)"', page.text).group(1)))
    assert effects["rank_changes"] == {"2>1": 2}
    assert scalar(conn, "SELECT min_xp FROM xp.ranks WHERE id = 2") == 255  # a preview changes nothing
    change = html.unescape(re.search(r'name="change" value="([^"]+)"', page.text).group(1))
    done = post(admin, "/admin/ranks/apply", change=change, effects=json.dumps(effects))
    assert done.status_code == 200 and 'id="applied"' in done.text
    assert scalar(conn, "SELECT min_xp FROM xp.ranks WHERE id = 2") == 290
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'rank_changed' "
                        "AND payload->>'new_rank' = '1'") == 2
    assert audit(conn)[-1] == ("alice", "thresholds.apply", None)
    assert_consistent(conn)


def test_applying_a_stale_threshold_preview_shows_the_new_one_and_changes_nothing(admin, conn):
    call(conn, "award_xp", "discord", "30", 260, "r", "s1")
    page = post(admin, "/admin/ranks/preview", **{"min_xp.2": "290"})
    effects = html.unescape(re.search(r'name="effects" value="([^"]+)"', page.text).group(1))
    call(conn, "award_xp", "discord", "31", 270, "r", "s2")  # one more person the change would move
    before = snapshot(conn)
    r = post(admin, "/admin/ranks/apply", change='{"2": 290}', effects=effects)
    assert r.status_code == 200 and 'id="stale"' in r.text and "2&gt;1: 2" in r.text
    assert snapshot(conn) == before


@pytest.mark.parametrize("fields", [{"min_xp.2": "abc"}, {"min_xp.2": "255"}, {"min_xp.2": "900"}, {"min_xp.1": "5"}])
def test_a_bad_threshold_change_is_a_clear_page(admin, conn, fields):
    before = snapshot(conn)
    r = post(admin, "/admin/ranks/preview", **fields)
    assert r.status_code == 400 and "Traceback" not in r.text
    assert snapshot(conn) == before


def test_reconcile_lists_the_dry_run_then_fixes(admin, conn, ann):
    coins = balances(conn, ann)["coins"]
    conn.execute("UPDATE xp.users SET coins = coins + 7 WHERE id = %s", (ann,))
    dry = post(admin, "/admin/reconcile/dry-run")
    assert dry.status_code == 200 and "balance_coins" in dry.text and 'id="apply-reconcile"' in dry.text
    assert balances(conn, ann)["coins"] == coins + 7
    fixed = post(admin, "/admin/reconcile/apply")
    assert fixed.status_code == 200 and "balance_coins" in fixed.text
    assert balances(conn, ann)["coins"] == coins
    assert 'id="no-drift"' in post(admin, "/admin/reconcile/dry-run").text
    assert audit(conn) == [("alice", "reconcile.fix", None)]


def void_window():
    now = datetime.now(UTC)
    return {"since": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "until": (now + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")}


def test_a_void_preview_then_voiding_exactly_those_rows(admin, conn, ann):
    xp = balances(conn, ann)["xp"]
    for i in range(3):
        call(conn, "award_xp", "discord", "1", 100, "raid bonus", f"raid{i}")
    page = post(admin, "/admin/void/preview", **void_window(), reason="raid", source="award", user_id=str(ann))
    assert page.status_code == 200 and 'data-rows="3"' in page.text
    chosen = sorted(int(i) for i in re.findall(r'<tr data-ledger="(\d+)"', page.text))
    upto = re.search(r'name="upto" value="(\d+)"', page.text).group(1)
    digest = re.search(r'name="digest" value="(\w+)"', page.text).group(1)
    done = post(admin, "/admin/void/apply", **void_window(), reason="raid", source="award", user_id=str(ann),
                upto=upto, digest=digest, note="raid abuse")
    assert done.status_code == 200 and 'id="voided"' in done.text
    keys = sorted(int(r["idempotency_key"][5:]) for r in conn.execute(
        "SELECT idempotency_key FROM xp.ledger WHERE source = 'void'"))
    assert keys == chosen
    assert balances(conn, ann)["xp"] == xp
    again = post(admin, "/admin/void/apply", **void_window(), reason="raid", source="award", user_id=str(ann),
                 upto=upto, digest=digest, note="raid abuse")
    assert again.status_code == 200 and 'id="stale"' in again.text  # voided once: the rows are gone
    assert audit(conn) == [("alice", "ledger.void", str(ann))]
    assert_consistent(conn)


@pytest.mark.parametrize("fields", [{"since": "yesterday"}, {"user_id": "ann"}, {"source": "import"},
                                    {"since": "2030-01-02T00:00", "until": "2030-01-01T00:00"}])
def test_a_bad_void_filter_is_a_clear_page(admin, conn, fields):
    r = post(admin, "/admin/void/preview", **{**void_window(), **fields})
    assert r.status_code == 400 and "Traceback" not in r.text


def test_the_audit_log_lists_every_change_with_its_actor(admin, conn, ann):
    post(admin, f"/admin/people/{ann}/adjust", kind="xp", amount="5", reason="prize")
    conn.execute("UPDATE xp.settings SET value = '33' WHERE key = 'daily.coins'")  # a DBA, from psql
    page = admin.get("/admin/audit").text
    assert "person.adjust" in page and "settings.update" in page and "alice" in page and "postgres" in page
    assert "settings.update" not in admin.get("/admin/audit?q=adjust").text
