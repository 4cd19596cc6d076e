"""What a member of xp_admin may do (design.md §5): edit every operator table from psql, with the
system following each change; read the rest; never write the ledger, create a trigger, truncate or
hold REFERENCES, so that nothing of theirs can run with the owner's rights."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.helpers import assert_consistent, call, scalar

OPERATOR_TABLES = ("ranks", "settings", "rank_roles", "guild_settings", "achievements", "achievement_roles",
                   "seasons", "multipliers", "quiz_questions", "wheel_prizes", "quests", "shop_items", "texts")


@pytest.fixture
def dba(conn) -> Iterator[str]:
    """A DBA's login role: a member of xp_admin with a schema of its own (where its functions live)."""
    name = f"dba_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE xp_admin").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE SCHEMA {0} AUTHORIZATION {0}").format(sql.Identifier(name)))
    yield name
    conn.execute("RESET ROLE")
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def become(conn, role):
    conn.execute("RESET ROLE")
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def refused(conn, statement, *args):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement, args)


# --- the escalation ------------------------------------------------------------------------------


def test_a_trigger_of_an_admin_never_runs_with_the_owners_rights(conn, dba):
    """With TRIGGER on the ledger, a DBA's own trigger function ran as the owner inside every
    SECURITY DEFINER award, in anybody's session, and could make its author superuser."""
    become(conn, dba)
    conn.execute(sql.SQL(
        "CREATE FUNCTION {0}.promote() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN EXECUTE 'ALTER ROLE {0} SUPERUSER'; RETURN NULL; END $$").format(sql.Identifier(dba)))
    placed = []
    for table in ("ledger", "users", "accounts", "deliveries"):
        try:
            conn.execute(sql.SQL("CREATE TRIGGER promote AFTER INSERT OR UPDATE ON xp.{} "
                                 "FOR EACH ROW EXECUTE FUNCTION {}.promote()").format(
                sql.Identifier(table), sql.Identifier(dba)))
            placed.append(table)
        except psycopg.errors.InsufficientPrivilege:
            pass
    become(conn, "xp_bot")
    call(conn, "award_xp", "discord", "1", 300, "r", "k1")  # an insert into the ledger, a rank-up, a delivery
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", dba) is False
    assert placed == []


@pytest.mark.parametrize("privilege", ["TRIGGER", "TRUNCATE", "REFERENCES"])
def test_only_the_owner_holds_trigger_truncate_or_references(conn, privilege):
    held = conn.execute(
        "SELECT r.rolname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN (SELECT rolname FROM pg_roles WHERE rolname LIKE 'xp\\_%%' UNION ALL SELECT 'public') r "
        "WHERE n.nspname = 'xp' AND c.relkind IN ('r', 'p', 'v') "
        "  AND has_table_privilege(r.rolname, c.oid, %s)", (privilege,)).fetchall()
    assert held == []


def test_nobody_but_the_functions_writes_the_ledger(conn, dba):
    call(conn, "award_xp", "discord", "1", 10, "r", "k1")
    writers = conn.execute(
        "SELECT r.rolname, p.p FROM (SELECT rolname FROM pg_roles WHERE rolname LIKE 'xp\\_%%' "
        "UNION ALL SELECT 'public') r CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) p (p) "
        "WHERE has_table_privilege(r.rolname, 'xp.ledger', p.p)").fetchall()
    assert writers == []
    become(conn, dba)
    assert scalar(conn, "SELECT count(*) FROM xp.ledger") == 1  # a DBA reads it
    for statement in ("INSERT INTO xp.ledger (user_id, source, kind, delta, reason, idempotency_key) "
                      "VALUES (1, 'admin', 'coins', 1000000, 'mint', 'mint')",
                      "UPDATE xp.ledger SET delta = 1000000", "DELETE FROM xp.ledger",
                      "TRUNCATE xp.ledger", "UPDATE xp.users SET coins = 1000000",
                      "INSERT INTO xp.user_achievements (user_id, code) VALUES (1, 'first_win')",
                      "TRUNCATE xp.users CASCADE", "SELECT * FROM xp.link_pepper"):
        refused(conn, statement)
    # the way to change a balance by hand
    assert call(conn, "adjust", 1, "coins", 5, "goodwill", dba)["coins"] == 5


def test_no_role_but_the_owner_may_create_a_trigger_or_truncate_any_table(conn, dba):
    tables = [r["relname"] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'xp' AND c.relkind = 'r' ORDER BY 1")]
    become(conn, dba)
    conn.execute(sql.SQL("CREATE FUNCTION {}.noop() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN RETURN NULL; END $$").format(sql.Identifier(dba)))
    for role in (dba, "xp_bot", "xp_listener"):
        become(conn, role)
        for table in tables:
            refused(conn, sql.SQL("CREATE TRIGGER noop AFTER INSERT ON xp.{} FOR EACH STATEMENT "
                                  "EXECUTE FUNCTION {}.noop()").format(sql.Identifier(table), sql.Identifier(dba)))
            refused(conn, sql.SQL("TRUNCATE xp.{}").format(sql.Identifier(table)))


# --- every operator table works from psql as a member of xp_admin --------------------------------


def test_ranks(conn, dba, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    low = call(conn, "award_xp", "telegram", "1", 150, "r", "k1")["user_id"]
    become(conn, dba)
    conn.execute("INSERT INTO xp.ranks (id, name, tier, stars, min_xp, color, emoji, reward_coins) "
                 "VALUES (21, 'S III', 'S', 3, 200000, '#FFD700', '👑', 1000)")
    conn.execute("UPDATE xp.ranks SET min_xp = 100 WHERE id = 2")
    conn.execute("DELETE FROM xp.ranks WHERE id = 21")
    assert [n.payload for n in listener.notifies(timeout=2, stop_after=3)] == ["ranks"] * 3
    while scalar(conn, "SELECT xp.rerank_batch(100)"):
        pass
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT rank_id, coins FROM xp.users WHERE id = %s", (low,)).fetchone() == {
        "rank_id": 2, "coins": 50}
    assert_consistent(conn)


def test_settings(conn, dba, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    become(conn, dba)
    conn.execute("INSERT INTO xp.settings (key, value) VALUES ('custom.flag', 'true')")
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
    conn.execute("DELETE FROM xp.settings WHERE key = 'custom.flag'")
    assert [n.payload for n in listener.notifies(timeout=2, stop_after=3)] == ["settings"] * 3
    conn.execute("RESET ROLE")
    call(conn, "record_message", "telegram", "1", "c", "m1", 10)
    assert call(conn, "record_message", "telegram", "1", "c", "m2", 10)["applied"]  # no cooldown now


@pytest.mark.parametrize(("insert", "update", "delete"), [
    ("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2')", "UPDATE xp.rank_roles SET role_id = 'r2b'",
     "DELETE FROM xp.rank_roles"),
    ("INSERT INTO xp.guild_settings VALUES ('g1', 'stack')", "UPDATE xp.guild_settings SET role_mode = 'replace'",
     "DELETE FROM xp.guild_settings"),
    ("INSERT INTO xp.achievement_roles VALUES ('g1', 'first_win', 'r9')",
     "UPDATE xp.achievement_roles SET role_id = 'r9b'", "DELETE FROM xp.achievement_roles"),
])
def test_role_mappings(conn, dba, insert, update, delete):
    call(conn, "award_xp", "discord", "1", 10, "r", "k1")
    pending = "SELECT count(*) FROM xp.deliveries WHERE status = 'pending' AND target = 'discord'"
    for statement in (insert, update, delete):
        become(conn, dba)
        conn.execute(statement)
        conn.execute("RESET ROLE")
        assert scalar(conn, pending) == 1  # a resync is queued (once: one waiting covers the next change)
        conn.execute("UPDATE xp.deliveries SET status = 'done'")


def test_achievements(conn, dba):
    call(conn, "award_xp", "telegram", "1", 10, "r", "k1")
    uid = call(conn, "record_message", "telegram", "1", "c", "m1", 10)["user_id"]
    become(conn, dba)
    conn.execute("INSERT INTO xp.achievements (code, name, criterion, threshold, reward_coins) "
                 "VALUES ('first_words', 'First words', 'messages', 1, 5)")
    assert [r["check_name"] for r in conn.execute("SELECT * FROM xp.reconcile_user(%s)", (uid,))] == [
        "achievements"]
    conn.execute("UPDATE xp.achievements SET name = 'First word' WHERE code = 'first_words'")
    conn.execute("DELETE FROM xp.achievements WHERE code = 'first_words'")  # its unlocks go with it
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT count(*) FROM xp.user_achievements") == 0
    assert scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", uid) == 5  # what was paid stays paid
    assert_consistent(conn)


def test_seasons(conn, dba):
    call(conn, "award_xp", "telegram", "1", 40, "r", "k1")
    become(conn, dba)
    conn.execute("INSERT INTO xp.seasons (name, starts_on, ends_on) "
                 "VALUES ('now', current_date - 1, current_date + 30)")
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT xp.profile('telegram', '1')")["season_xp"] == 40
    become(conn, dba)
    conn.execute("UPDATE xp.seasons SET starts_on = current_date - 2, ends_on = current_date + 30")
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT xp.profile('telegram', '1')")["season_xp"] == 40
    call(conn, "award_xp", "telegram", "1", 2, "r", "k2")
    assert scalar(conn, "SELECT xp.profile('telegram', '1')")["season_xp"] == 42
    become(conn, dba)
    conn.execute("DELETE FROM xp.seasons")
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT xp.profile('telegram', '1')")["season_xp"] is None


def test_multipliers(conn, dba):
    become(conn, dba)
    conn.execute("INSERT INTO xp.multipliers (factor, starts_at, ends_at, reason) "
                 "VALUES (2, now() - interval '1 hour', now() + interval '1 hour', 'double weekend')")
    conn.execute("UPDATE xp.multipliers SET factor = 3")
    conn.execute("RESET ROLE")
    assert call(conn, "award_xp", "telegram", "1", 10, "r", "k1")["xp"] == 30
    become(conn, dba)
    conn.execute("DELETE FROM xp.multipliers")
    conn.execute("RESET ROLE")
    assert call(conn, "award_xp", "telegram", "1", 10, "r", "k2")["xp"] == 40


def test_quiz_questions_and_wheel_prizes(conn, dba):
    become(conn, dba)
    conn.execute("DELETE FROM xp.quiz_questions")
    conn.execute("INSERT INTO xp.quiz_questions (language, question, options, answer) "
                 "VALUES ('en', 'One?', '{0,1}', 0)")
    conn.execute("UPDATE xp.quiz_questions SET question = 'Two?', answer = 1")
    conn.execute("DELETE FROM xp.wheel_prizes")
    conn.execute("INSERT INTO xp.wheel_prizes (kind, amount, weight) VALUES ('coins', 7, 1)")
    conn.execute("UPDATE xp.wheel_prizes SET amount = 9")
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT xp.start_game('telegram', '1', 'quiz')")["question"] == "Two?"
    assert scalar(conn, "SELECT xp.start_game('telegram', '1', 'spin')")["amount"] == 9
