"""Roles and grants (design.md §5): xp_bot calls the bot functions and touches no table."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.helpers import call

BOT_FUNCTIONS = {
    "award_xp", "award_many", "award_coins", "claim_daily", "record_message", "record_messages", "record_voice",
    "profile", "leaderboard",
    "create_link_code", "redeem_link_code", "unlink", "request_resync", "set_notify", "set_language",
    "start_game", "play_game", "language", "set_privacy", "set_client_language", "discord_roles_changed",
    "chat_opened", "heartbeat", "config_version",
    # quests and the shop, and the operators' wording of the texts
    "quest_list", "submit_quest", "shop_list", "buy", "texts",
}
WEB_FUNCTIONS = {
    "leaderboard", "profile", "set_privacy", "public_profile", "account_person", "board_size", "rank_ladder",
    "web_settings", "web_sign_in", "link_accounts", "api_key_name", "refresh_places",
    # the admin panel reads with the web's login (read-only without XPSYNC_ADMIN_DATABASE_URL)
    "admin_cursor", "admin_overview", "admin_heartbeats", "admin_people", "admin_person", "admin_ledger",
    "admin_deliveries", "admin_delivery_count", "audit_log", "admin_settings", "operator_rows", "config_version",
    "use_admin_token", "admin_token_role", "preview_thresholds", "void_preview",
    "admin_submissions", "admin_purchases", "text_catalogue", "preview_text", "shop_list", "texts",
    "admin_quest_queue", "admin_shop_queue", "admin_review_count", "admin_person_roles",
}
LISTENER_FUNCTIONS = {
    "claim_deliveries", "ack_deliveries", "fail_delivery", "release_deliveries", "discord_role_plan",
    "telegram_recipient", "discord_recipient", "rerank_batch", "reserve_slot", "pause_pace", "pace_held", "guild_refused",
    "heartbeat", "config_version", "texts", "expire_purchases",
}


def tables(conn):
    """Each table of the schema with one of its columns that may be assigned."""
    return conn.execute(
        "SELECT table_name AS name, min(column_name) AS col FROM information_schema.columns "
        "WHERE table_schema = 'xp' AND is_identity = 'NO' GROUP BY 1 ORDER BY 1"
    ).fetchall()


def public_functions(conn):
    return conn.execute(
        "SELECT p.oid::regprocedure::text AS signature, p.proname, p.prosecdef, p.proconfig, "
        "       obj_description(p.oid, 'pg_proc') AS comment "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'xp' AND p.proname NOT LIKE '\\_%' AND p.prokind = 'f' ORDER BY 2"
    ).fetchall()


@pytest.mark.parametrize("role", ["xp_bot", "xp_web"])
def test_bot_and_web_roles_cannot_touch_any_table(conn, role):
    found = tables(conn)
    assert {"users", "accounts", "ledger", "deliveries", "settings", "api_keys"} <= {t["name"] for t in found}
    conn.execute(f"SET ROLE {role}")
    for t in found:
        name, col = t["name"], t["col"]
        for statement in (f"SELECT * FROM xp.{name}", f"DELETE FROM xp.{name}",
                          f"INSERT INTO xp.{name} DEFAULT VALUES", f"UPDATE xp.{name} SET {col} = {col}"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_bot_role_calls_the_bot_functions(conn):
    conn.execute("SET ROLE xp_bot")
    assert call(conn, "award_xp", "telegram", "1", 300, "r", "k1")["new_rank"] == 2
    assert call(conn, "award_coins", "telegram", "1", -10, "r", "k2")["coins"] == 40
    assert call(conn, "claim_daily", "telegram", "1")["applied"]
    assert call(conn, "record_message", "telegram", "1", "c", "m", 10)["user_id"]
    assert call(conn, "record_voice", "discord", "1", "s", 120)["xp"] == 6
    assert conn.execute("SELECT xp.profile('telegram', '1') AS p").fetchone()["p"]["xp"] >= 400
    assert len(conn.execute("SELECT * FROM xp.leaderboard()").fetchall()) == 2


def test_bot_role_cannot_call_internal_helpers(conn):
    conn.execute("SET ROLE xp_bot")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT xp._apply(1, 1, 'telegram', 'award', 'xp', 1000000, 'r', 'k')")


def test_no_function_is_executable_by_public(conn):
    granted = conn.execute(
        "SELECT p.oid::regprocedure::text AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'xp' AND has_function_privilege('public', p.oid, 'EXECUTE')"
    ).fetchall()
    assert granted == []


def executable_by(conn, role):
    return {r["proname"] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'xp' AND has_function_privilege(%s, p.oid, 'EXECUTE')", (role,)
    )}


def test_bot_role_executes_exactly_the_bot_functions(conn):
    assert executable_by(conn, "xp_bot") == BOT_FUNCTIONS


def test_web_role_executes_exactly_the_web_functions(conn):
    assert executable_by(conn, "xp_web") == WEB_FUNCTIONS


def test_web_role_calls_the_web_functions(conn):
    call(conn, "award_xp", "discord", "1", 300, "r", "k1")
    conn.execute("SET ROLE xp_web")
    uid = conn.execute("SELECT xp.web_sign_in('telegram', '5', 'Ann') AS u").fetchone()["u"]
    assert conn.execute("SELECT xp.public_profile(%s) AS p", (uid,)).fetchone()["p"]["display_name"] == "Ann"
    assert [r["xp"] for r in conn.execute("SELECT * FROM xp.leaderboard(10, 'all', 0)")] == [300]
    assert conn.execute("SELECT xp.board_size('all') AS n").fetchone()["n"] == 1
    assert len(conn.execute("SELECT * FROM xp.rank_ladder()").fetchall()) == 20
    for statement in ("SELECT xp.create_api_key('mine')", "SELECT * FROM xp.award_xp('discord', '1', 5, 'r', 'k2')",
                      "SELECT xp.adjust(1, 'xp', 5, 'r', 'me')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_listener_role_executes_exactly_the_delivery_functions(conn):
    assert executable_by(conn, "xp_listener") == LISTENER_FUNCTIONS


def test_listener_role_reads_only_ranks_and_settings_and_writes_nothing(conn):
    call(conn, "award_xp", "discord", "1", 300, "r", "k1")
    readable = {r["relname"] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'xp' AND c.relkind = 'r' AND has_table_privilege('xp_listener', c.oid, 'SELECT')"
    )}
    assert readable == {"ranks", "settings"}
    conn.execute("SET ROLE xp_listener")
    assert len(conn.execute("SELECT * FROM xp.claim_deliveries('discord', 'me')").fetchall()) == 1
    for statement in ("SELECT * FROM xp.ledger", "UPDATE xp.deliveries SET status = 'done'",
                      "UPDATE xp.settings SET value = '1'",
                      "SELECT * FROM xp.award_xp('discord', '1', 5, 'r', 'k2')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_public_functions_are_commented_definer_and_pin_search_path(conn):
    functions = public_functions(conn)
    assert {f["proname"] for f in functions} >= BOT_FUNCTIONS
    for f in functions:
        assert f["comment"], f"{f['signature']} has no COMMENT"
        assert f["prosecdef"], f"{f['signature']} is not SECURITY DEFINER"
        assert f["proconfig"] == ["search_path=pg_catalog, pg_temp"], f["signature"]


def test_every_public_function_has_a_section_in_the_sql_api_docs(conn):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sql-api.md").read_text()
    for f in public_functions(conn):
        assert f"## xp.{f['proname']}" in docs, f"docs/sql-api.md has no section for xp.{f['proname']}"
