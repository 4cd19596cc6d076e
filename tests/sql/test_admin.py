"""The admin panel's SQL: the audit log (panel and psql), settings checked on write, the config
version and heartbeats, login links, delivery retries and discards, threshold previews that say
exactly what applying does, and voids that reverse exactly the rows previewed."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.helpers import assert_consistent, call, scalar


def person(conn, platform, external_id, xp, name=None):
    return call(conn, "award_xp", platform, external_id, xp, "seed", f"seed-{platform}-{external_id}", name)["user_id"]


def audit(conn, action=None):
    rows = conn.execute("SELECT actor, db_user, action, target, detail FROM xp.admin_audit ORDER BY id").fetchall()
    return [r for r in rows if action is None or r["action"] == action]


def as_admin(conn, actor=None):
    """This connection's next statements as a DBA (a member of xp_admin) in psql, or as the panel naming `actor`."""
    conn.execute("SET ROLE xp_admin")
    if actor is not None:
        conn.execute("SELECT set_config('xp.actor', %s, false)", (actor,))


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


# --- the audit log ---------------------------------------------------------------------------------


def test_a_psql_edit_of_an_operator_table_is_audited_with_the_login(conn):
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('g1', 2, 'r2')")
    conn.execute("DELETE FROM xp.rank_roles WHERE guild_id = 'g1'")
    as_admin(conn)
    conn.execute("UPDATE xp.settings SET value = '45' WHERE key = 'message.cooldown_seconds'")
    entries = audit(conn)
    assert [(e["action"], e["target"]) for e in entries] == [
        ("rank_roles.insert", "g1:2"), ("rank_roles.delete", "g1:2"), ("settings.update", "message.cooldown_seconds")]
    assert entries[2]["detail"] == {"old": {"value": 60}, "new": {"value": 45}}
    assert entries[0]["detail"] == {"new": {"guild_id": "g1", "rank_id": 2, "role_id": "r2"}}
    assert {e["actor"] for e in entries} == {e["db_user"] for e in entries} == {"postgres"}


def test_the_panel_names_its_operator_and_the_login_stays_on_record(conn):
    as_admin(conn, actor="alice")
    conn.execute("UPDATE xp.settings SET value = '20' WHERE key = 'daily.coins'")
    [entry] = audit(conn)
    assert (entry["actor"], entry["db_user"], entry["action"]) == ("alice", "postgres", "settings.update")


def test_an_update_that_changes_nothing_is_not_audited(conn):
    conn.execute("UPDATE xp.settings SET value = value WHERE key = 'daily.coins'")
    assert audit(conn) == []


def test_admin_functions_write_the_audit_log(conn):
    uid = person(conn, "discord", "1", 300)
    person(conn, "telegram", "9", 10)
    call(conn, "redeem_link_code", "telegram", "9", scalar(conn, "SELECT xp.create_link_code('discord', '1')"))
    as_admin(conn, actor="bob")
    conn.execute("SELECT xp.adjust(%s, 'coins', 25, 'prize', 'carol')", (uid,))
    conn.execute("SELECT xp.resync_roles(%s)", (uid,))
    conn.execute("SELECT xp.admin_unlink('telegram', '9')")
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    assert [(e["actor"], e["action"], e["target"]) for e in audit(conn)] == [
        ("carol", "person.adjust", str(uid)),  # xp.adjust names its own actor
        ("bob", "person.resync_roles", str(uid)),
        ("bob", "account.unlink", "telegram:9"),
        ("bob", "person.forget", str(uid)),
    ]
    assert audit(conn, "person.adjust")[0]["detail"] == {"kind": "coins", "amount": 25, "reason": "prize"}


def test_nobody_but_the_functions_writes_the_audit_log_or_the_login_links(conn):
    conn.execute("SELECT xp._audit('x')")
    as_admin(conn)
    for statement in ("DELETE FROM xp.admin_audit", "UPDATE xp.admin_audit SET actor = 'someone else'",
                      "INSERT INTO xp.admin_audit (actor, action) VALUES ('me', 'x')",
                      "UPDATE xp.admin_tokens SET role = 'admin'", "UPDATE xp.config_version SET version = 0",
                      "DELETE FROM xp.heartbeats", "TRUNCATE xp.admin_audit"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    assert len(conn.execute("SELECT * FROM xp.admin_audit").fetchall()) == 1  # a DBA reads it


def test_an_audit_entry_rings_the_panels_doorbell(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_admin")
    conn.execute("UPDATE xp.settings SET value = '30' WHERE key = 'daily.coins'")
    assert [n.channel for n in listener.notifies(timeout=2, stop_after=1)] == ["xp_admin"]


# --- settings are checked on every write -----------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("message.cooldown_seconds", "-1", "must be at least 0"),
    ("message.cooldown_seconds", "1.5", "must be a whole number"),
    ("message.cooldown_seconds", '"60"', "must be a number"),
    ("web.visibility", '"everyone"', 'must be one of ["public", "members", "off"]'),
    ("notices.languages", '["en", "de"]', '"de", which is not one of'),
    ("message.ignored_chats", '["spam"]', "does not match"),
    ("message.ignored_chats", '[5]', "strings only"),
    ("multiplier.cap", "4", "must be at most 3"),
    ("daily.xp", "null", "needs a value"),
    ("message.xp_min", "30", "must not be above message.xp_max"),
    ("discord.role_edits_per_second", "-1", "must be at least 0"),
    ("discord.requests_per_second", '"fast"', "must be a number"),
    ("discord.guild_pause_after", "0", "must be at least 1"),
    ("discord.messages_per_second", "-0.5", "must be at least 0"),
    ("telegram.group_messages_per_minute", "1e9", "must be at most 100000"),
])
def test_a_bad_setting_is_refused_with_the_key_and_the_problem(conn, key, value, problem):
    before = conn.execute("SELECT value FROM xp.settings WHERE key = %s", (key,)).fetchone()["value"]
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (value, key))
    assert refused.value.sqlstate == "XP002"
    assert problem in str(refused.value) and key in str(refused.value)
    assert conn.execute("SELECT value FROM xp.settings WHERE key = %s", (key,)).fetchone()["value"] == before
    assert audit(conn) == []


@pytest.mark.parametrize(("key", "value"), [
    ("message.cooldown_seconds", "0"), ("delivery.backoff_base_seconds", "0.05"), ("web.visibility", '"off"'),
    ("telegram.messages_per_second", "10000"), ("message.ignored_chats", '["telegram:-100123", "discord:42"]'),
    ("notices.languages", '["ru"]'), ("telegram.messages_per_second", "0"), ("discord.messages_per_second", "0"),
])
def test_good_settings_are_taken(conn, key, value):
    conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (value, key))
    assert conn.execute("SELECT value FROM xp.settings WHERE key = %s", (key,)).fetchone()["value"] == json.loads(value)


def test_every_shipped_setting_has_a_rule(conn):
    assert conn.execute("SELECT key FROM xp.settings WHERE rule IS NULL ORDER BY key").fetchall() == []


def test_a_setting_without_a_rule_keeps_its_json_type(conn):
    conn.execute("INSERT INTO xp.settings (key, value) VALUES ('custom.thing', '5')")
    conn.execute("UPDATE xp.settings SET value = '7' WHERE key = 'custom.thing'")
    with pytest.raises(psycopg.Error, match="must stay a JSON number"):
        conn.execute("UPDATE xp.settings SET value = '\"seven\"' WHERE key = 'custom.thing'")


# --- config version, heartbeats ----------------------------------------------------------------------


def test_each_change_of_an_operator_table_counts_and_rings_its_name(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    start = scalar(conn, "SELECT xp.config_version()")
    conn.execute("INSERT INTO xp.multipliers (factor, starts_at, ends_at) VALUES (2, now(), now() + interval '1 h')")
    conn.execute("UPDATE xp.settings SET value = '30' WHERE key = 'daily.coins'")
    assert scalar(conn, "SELECT xp.config_version()") == start + 2
    assert sorted(n.payload for n in listener.notifies(timeout=2, stop_after=2)) == ["multipliers", "settings"]


def beat(conn, instance="l1", kind="listener:discord", **kwargs):
    return scalar(conn, "SELECT xp.heartbeat(%s, %s, %s, %s, %s, %s, %s, %s)", instance, kind, "1.0",
                  kwargs.get("config_version"), kwargs.get("handled", 0), kwargs.get("last_batch"),
                  kwargs.get("last_batch_at"), kwargs.get("stopping", False))


def processes(conn):
    return {r["instance"]: r for r in conn.execute("SELECT * FROM xp.admin_heartbeats()")}


def test_heartbeats_say_what_runs_what_it_took_up_and_what_went_quiet(conn):
    version = scalar(conn, "SELECT xp.config_version()")
    conn.execute("SET ROLE xp_listener")
    assert beat(conn, "l1", config_version=version, handled=5, last_batch=5, last_batch_at=datetime.now(timezone.utc)) \
        == version
    conn.execute("SET ROLE xp_bot")
    beat(conn, "b1", "bot:telegram", config_version=version)
    beat(conn, "b2", "bot:discord", stopping=True)
    conn.execute("RESET ROLE")
    seen = processes(conn)
    assert {k: v["state"] for k, v in seen.items()} == {"l1": "running", "b1": "running", "b2": "stopped"}
    assert (seen["l1"]["handled"], seen["l1"]["last_batch"], seen["l1"]["config_version"]) == (5, 5, version)
    first = seen["l1"]["seen_at"]
    conn.execute("UPDATE xp.heartbeats SET seen_at = seen_at - interval '1 minute' WHERE instance = 'b1'")
    assert processes(conn)["b1"]["state"] == "stale"
    beat(conn, "l1", handled=9)  # a beat without news keeps what it took up
    again = processes(conn)["l1"]
    assert (again["handled"], again["config_version"], again["last_batch"]) == (9, version, 5)
    assert again["seen_at"] >= first


@pytest.mark.parametrize("args", [
    ("", "listener:discord", "1"), ("x", "listener:slack", "1"), ("x", "bot:discord", ""), ("x", None, "1"),
])
def test_a_bad_heartbeat_is_refused(conn, args):
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT xp.heartbeat(%s, %s, %s)", args)
    assert refused.value.sqlstate == "XP002"


# --- login links ---------------------------------------------------------------------------------------


def test_a_login_link_signs_in_once_and_its_session_ends_when_revoked(conn):
    conn.execute("SELECT xp.create_admin_token('alice', 'viewer', %s)", (digest("t1"),))
    conn.execute("SET ROLE xp_web")
    [used] = conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest("t1"),)).fetchall()
    assert (used["name"], used["role"]) == ("alice", "viewer")
    assert conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest("t1"),)).fetchall() == []  # once
    assert conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest("never made"),)).fetchall() == []
    assert scalar(conn, "SELECT xp.admin_token_role(%s)", used["token_id"]) == "viewer"
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT xp.revoke_admin_tokens('alice')") == 1
    assert scalar(conn, "SELECT xp.admin_token_role(%s)", used["token_id"]) is None
    assert [e["action"] for e in audit(conn)] == ["admin_token.create", "admin.sign_in", "admin_token.revoke"]
    assert audit(conn, "admin.sign_in")[0]["actor"] == "alice"


def test_an_expired_or_revoked_login_link_signs_in_nobody(conn):
    conn.execute("SELECT xp.create_admin_token('bob', 'admin', %s, '1 minute')", (digest("old"),))
    conn.execute("SELECT xp.create_admin_token('carol', 'admin', %s)", (digest("revoked"),))
    conn.execute("UPDATE xp.admin_tokens SET expires_at = now() - interval '1 second', "
                 "created_at = now() - interval '2 minutes' WHERE name = 'bob'")
    conn.execute("SELECT xp.revoke_admin_tokens('carol')")
    for token in ("old", "revoked"):
        assert conn.execute("SELECT * FROM xp.use_admin_token(%s)", (digest(token),)).fetchall() == []


@pytest.mark.parametrize(("name", "role", "token", "valid"), [
    ("bad name", "admin", digest("a"), "1 day"), ("discord:1", "admin", digest("a"), "1 day"),
    ("x", "root", digest("a"), "1 day"), ("x", "admin", b"short", "1 day"), ("x", "admin", digest("a"), "31 days"),
])
def test_a_bad_login_link_is_refused(conn, name, role, token, valid):
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT xp.create_admin_token(%s, %s, %s, %s::interval)", (name, role, token, valid))
    assert refused.value.sqlstate == "XP002"


# --- deliveries: retry and discard ---------------------------------------------------------------


def deliveries(conn):
    return {r["id"]: r for r in conn.execute("SELECT * FROM xp.deliveries ORDER BY id")}


def test_retry_and_discard_act_on_what_matches_and_never_on_a_claim_in_flight(conn, connect):
    for i in range(4):
        person(conn, "discord", str(i), 300)  # a rank-up each: one Discord delivery each
    ids = sorted(deliveries(conn))
    conn.execute("UPDATE xp.deliveries SET status = 'failed', last_error = 'Missing Access (50001)', "
                 "finished_at = now() WHERE id = ANY (%s)", (ids[:2],))
    conn.execute("UPDATE xp.deliveries SET status = 'dead', last_error = 'HTTP 502', finished_at = now() "
                 "WHERE id = %s", (ids[2],))
    conn.execute("UPDATE xp.deliveries SET lease_owner = 'l1', run_at = now() + interval '30 s' WHERE id = %s",
                 (ids[3],))
    assert scalar(conn, "SELECT xp.admin_delivery_count(by_error => 'missing access')") == 2
    listener = connect()
    listener.execute("LISTEN xp_discord")
    conn.execute("SET ROLE xp_admin")
    conn.execute("SELECT set_config('xp.actor', 'ops', false)")
    assert scalar(conn, "SELECT xp.retry_deliveries(by_error => 'missing access')") == 2
    assert [n.channel for n in listener.notifies(timeout=2, stop_after=1)] == ["xp_discord"]
    assert scalar(conn, "SELECT xp.discard_deliveries(by_target => 'discord')") == 3  # not the one under lease
    assert scalar(conn, "SELECT xp.discard_deliveries(by_target => 'discord')") == 0
    now = deliveries(conn)
    assert [now[i]["status"] for i in ids] == ["discarded", "discarded", "discarded", "pending"]
    assert scalar(conn, "SELECT xp.retry_deliveries(ids => %s)", [ids[2], ids[3]]) == 1
    now = deliveries(conn)
    assert (now[ids[2]]["status"], now[ids[2]]["attempts"], now[ids[3]]["lease_owner"]) == ("pending", 0, "l1")
    assert [(e["actor"], e["action"], e["detail"]["deliveries"]) for e in audit(conn)] == [
        ("ops", "deliveries.retry", 2), ("ops", "deliveries.discard", 3), ("ops", "deliveries.retry", 1)]


def test_a_bad_delivery_filter_is_refused(conn):
    for call_ in ("xp.retry_deliveries(by_target => 'slack')", "xp.discard_deliveries(by_status => 'lost')",
                  "xp.admin_deliveries(lim => 0)"):
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(f"SELECT * FROM {call_}")
        assert refused.value.sqlstate == "XP002"


# --- reads -----------------------------------------------------------------------------------------------


def test_people_are_found_by_name_platform_id_or_person_id(conn):
    ann = person(conn, "discord", "111", 10, "Ann_Lee")
    anna = person(conn, "telegram", "222", 20, "anna")
    bob = person(conn, "telegram", "333", 30, "Bob")

    def found(q):
        return [r["user_id"] for r in conn.execute("SELECT * FROM xp.admin_people(%s)", (q,))]

    assert found("an") == [anna, ann]
    assert found("ANN_") == [ann]  # _ is a letter here, not a wildcard
    assert found("a%") == []
    assert found("333") == [bob]
    assert found(f"#{ann}") == [ann]
    assert found(None) == [bob, anna, ann]
    [row] = conn.execute("SELECT * FROM xp.admin_people('bob')").fetchall()
    assert row["accounts"] == [{"platform": "telegram", "external_id": "333", "display_name": "Bob"}]


def test_a_persons_ledger_pages_newest_first(conn):
    uid = person(conn, "discord", "1", 10)
    for i in range(5):
        call(conn, "award_xp", "discord", "1", 1 + i, "r", f"k{i}")
    first = conn.execute("SELECT * FROM xp.admin_ledger(%s, NULL, 3)", (uid,)).fetchall()
    rest = conn.execute("SELECT * FROM xp.admin_ledger(%s, %s, 3)", (uid, first[-1]["id"])).fetchall()
    assert [r["delta"] for r in first + rest] == [5, 4, 3, 2, 1, 10]


def test_the_cursor_moves_with_an_ordinary_award(conn):
    before = scalar(conn, "SELECT xp.admin_cursor()")
    person(conn, "discord", "1", 10)
    after = scalar(conn, "SELECT xp.admin_cursor()")
    assert after["ledger"] > before["ledger"] and after["events"] == before["events"]


# --- thresholds: a preview that says exactly what applying does ---------------------------------------


def community(conn):
    uids = [person(conn, "discord", str(i), xp) for i, xp in enumerate((100, 260, 300, 800, 2000))]
    person(conn, "telegram", "t1", 280)
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('g', 2, 'r2'), ('g', 3, 'r3')")
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now()")
    return uids


def world(conn):
    return [conn.execute(f"SELECT * FROM xp.{t} ORDER BY 1").fetchall()
            for t in ("users", "ledger", "events", "deliveries", "ranks", "user_achievements", "admin_audit")]


def test_a_threshold_preview_writes_nothing_and_applying_does_exactly_what_it_said(conn):
    community(conn)
    before = world(conn)
    change = {"2": 290, "3": 700}
    preview = scalar(conn, "SELECT xp.preview_thresholds(%s)", json.dumps(change))
    assert world(conn) == before
    assert preview["before"] == {"1": 1, "2": 3, "3": 1, "4": 1}
    assert preview["after"] == {"1": 3, "2": 1, "3": 1, "4": 1}
    effects = preview["effects"]
    # two demoted (one on each platform), three more with new rank bounds; one Discord role to take away
    assert effects["rank_changes"] == {"2>1": 2}
    assert (effects["people"], effects["deliveries"], effects["role_changes"]) == (5, {"discord": 1, "telegram": 1}, 1)
    applied = scalar(conn, "SELECT xp.apply_thresholds(%s, %s)", json.dumps(change), json.dumps(effects))
    assert applied["effects"] == effects and applied["after"] == preview["after"]
    # what the database did is what the preview said
    moves = {}
    for e in conn.execute("SELECT payload FROM xp.events WHERE kind = 'rank_changed' AND id > %s",
                          (max(r["id"] for r in before[2]),)):
        key = f"{e['payload']['old_rank']}>{e['payload']['new_rank']}"
        moves[key] = moves.get(key, 0) + 1
    assert moves == effects["rank_changes"]
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE status = 'pending'") \
        == sum(effects["deliveries"].values())
    assert_consistent(conn)
    assert [e["action"] for e in audit(conn)][-1] == "thresholds.apply"


def test_applying_a_stale_preview_is_refused_and_changes_nothing(conn):
    community(conn)
    preview = scalar(conn, "SELECT xp.preview_thresholds('{\"2\": 290}')")
    person(conn, "discord", "late", 285)  # one more person the change would move
    before = world(conn)
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT xp.apply_thresholds('{\"2\": 290}', %s)", (json.dumps(preview["effects"]),))
    assert refused.value.sqlstate == "XP008"
    assert world(conn) == before


@pytest.mark.parametrize("change", ['{"2": -5}', '{"2": 1.5}', '{"99": 10}', '{"x": 1}', '{}', '[1]',
                                    '{"2": 1000}', '{"1": 5}'])
def test_a_bad_threshold_change_is_refused(conn, change):
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT xp.preview_thresholds(%s)", (change,))
    assert refused.value.sqlstate == "XP002"


# --- voiding an abuse wave -------------------------------------------------------------------------------


def window():
    now = datetime.now(timezone.utc)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def void_preview(conn, **filters):
    since, until = window()
    return scalar(conn, "SELECT xp.void_preview(%s, %s, %s, %s, %s)", since, until, filters.get("user_id"),
                  filters.get("source"), filters.get("reason"))


def void(conn, preview, note="abuse wave", **filters):
    since, until = window()
    return scalar(conn, "SELECT xp.void_ledger(%s, %s, %s, %s, %s, %s, %s, %s)", since, until,
                  filters.get("user_id"), filters.get("source"), filters.get("reason"), preview["upto"],
                  preview["digest"], note)


def test_a_void_reverses_exactly_the_rows_it_previewed_and_ranks_follow(conn):
    farmer = person(conn, "discord", "f", 100)
    honest = person(conn, "discord", "h", 100)
    for i in range(3):
        call(conn, "award_xp", "discord", "f", 100, "Raid Bonus", f"raid-{i}")
    call(conn, "award_xp", "discord", "h", 100, "raid bonus", "raid-h")
    call(conn, "award_xp", "discord", "f", 50, "quiz", "quiz-f")
    assert scalar(conn, "SELECT rank_id FROM xp.users WHERE id = %s", farmer) == 2
    before = world(conn)
    preview = void_preview(conn, reason="raid bonus", user_id=farmer)
    assert world(conn) == before
    assert (preview["rows"], preview["xp"], preview["coins"]) == (3, 300, 0)
    assert [(p["user_id"], p["xp"], p["xp_after"]) for p in preview["people"]] == [(farmer, 300, 150)]
    assert preview["effects"]["rank_changes"] == {"2>1": 1}
    chosen = [r["id"] for r in preview["sample"]]
    as_admin(conn, actor="ops")
    done = void(conn, preview, reason="raid bonus", user_id=farmer)
    conn.execute("RESET ROLE")
    assert done["effects"] == preview["effects"] and done["rows"] == 3
    reversals = conn.execute("SELECT * FROM xp.ledger WHERE source = 'void' ORDER BY id").fetchall()
    assert sorted(r["idempotency_key"] for r in reversals) == sorted(f"void:{i}" for i in chosen)
    assert {(r["delta"], r["actor"], r["reason"]) for r in reversals} == {(-100, "ops", "void: abuse wave")}
    assert scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", farmer) == 150
    assert scalar(conn, "SELECT rank_id FROM xp.users WHERE id = %s", farmer) == 1
    assert scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", honest) == 200
    assert scalar(conn, "SELECT week_xp FROM xp.users WHERE id = %s", farmer) == 150  # the boards follow
    assert void_preview(conn, reason="raid bonus", user_id=farmer)["rows"] == 0  # a row is voided once
    [entry] = audit(conn, "ledger.void")
    assert (entry["actor"], entry["detail"]["rows"], entry["detail"]["xp"]) == ("ops", 3, 300)
    assert_consistent(conn)


def test_a_void_whose_rows_changed_since_the_preview_is_refused(conn):
    person(conn, "discord", "f", 100)
    preview = void_preview(conn, source="award")
    # rows written after the preview are not its rows: the void still reverses exactly the previewed ones
    person(conn, "discord", "g", 100)
    assert void(conn, preview, source="award")["rows"] == 1
    with pytest.raises(psycopg.Error) as refused:
        void(conn, preview, source="award")  # those rows were voided meanwhile
    assert refused.value.sqlstate == "XP008"


def test_a_void_that_would_take_someone_below_zero_is_refused(conn):
    call(conn, "award_coins", "discord", "f", 100, "raid", "raid-c")
    call(conn, "award_coins", "discord", "f", -80, "shop", "spent")
    preview = void_preview(conn, reason="raid")
    assert preview["short"] == [scalar(conn, "SELECT id FROM xp.users")] and preview["effects"] is None
    before = world(conn)
    with pytest.raises(psycopg.Error) as refused:
        void(conn, preview, reason="raid")
    assert refused.value.sqlstate == "XP003"
    assert world(conn) == before


def test_a_bad_void_is_refused(conn):
    since, until = window()
    for args in ((until, since, None, None, None), (since, until, None, "import", None),
                 (since, until, None, "void", None), (None, until, None, None, None)):
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("SELECT xp.void_preview(%s, %s, %s, %s, %s)", args)
        assert refused.value.sqlstate == "XP002"
    with pytest.raises(psycopg.Error, match="preview first"):
        conn.execute("SELECT xp.void_ledger(%s, %s, NULL, NULL, NULL, NULL, NULL, 'x')", (since, until))
