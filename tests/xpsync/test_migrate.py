"""`xpsync migrate` and sql/functions/: what runs is what the files say, nothing is half-applied,
concurrent runs take turns."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import psycopg
import pytest
from yoyo import read_migrations

from tests.helpers import scratch_database
from xpsync import migrate as migrate_module
from xpsync.migrate import MigrationRefused, migrate, sql_dir
from xpsync.schema import dump


@pytest.fixture
def pg_dump(server) -> Path:
    return server.bin_dir / "pg_dump"


@pytest.fixture
def files_copy(tmp_path, monkeypatch) -> Path:
    """A copy of sql/functions/ that migrate applies instead of the real one."""
    copy = tmp_path / "functions"
    shutil.copytree(sql_dir() / "functions", copy)
    monkeypatch.setattr(migrate_module, "function_files", lambda: sorted(copy.glob("*.sql")))
    return copy


def test_a_body_edited_by_hand_is_put_back(db_url, conn, pg_dump):
    before = dump(db_url, pg_dump)
    conn.execute("CREATE OR REPLACE FUNCTION xp._setting(p_key text) RETURNS jsonb LANGUAGE sql STABLE "
                 "AS $$ SELECT '1'::jsonb $$")
    result = migrate(db_url)
    assert result.functions.refreshed and result.applied == ()
    assert str(result) == "applied 0 migration(s); functions: refreshed"
    assert dump(db_url, pg_dump) == before
    assert not migrate(db_url).functions.refreshed


def test_privileges_given_by_hand_to_our_roles_are_taken_back(db_url, conn):
    conn.execute("GRANT EXECUTE ON FUNCTION xp._state(bigint) TO xp_bot")
    conn.execute("GRANT SELECT ON xp.ledger TO xp_listener")
    assert migrate(db_url).functions.refreshed
    assert conn.execute("SELECT has_function_privilege('xp_bot', 'xp._state(bigint)', 'EXECUTE') AS f, "
                        "has_table_privilege('xp_listener', 'xp.ledger', 'SELECT') AS t").fetchone() == {
        "f": False, "t": False}


def test_functions_and_triggers_no_file_defines_are_dropped(db_url, conn, pg_dump):
    before = dump(db_url, pg_dump)
    conn.execute("CREATE FUNCTION xp._obsolete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    conn.execute("CREATE TRIGGER obsolete AFTER INSERT ON xp.users FOR EACH STATEMENT EXECUTE FUNCTION xp._obsolete()")
    result = migrate(db_url)
    assert result.functions.dropped == ("obsolete ON xp.users", "xp._obsolete()")
    assert str(result) == "applied 0 migration(s); functions: refreshed, dropped obsolete ON xp.users, xp._obsolete()"
    assert dump(db_url, pg_dump) == before


def test_a_function_taken_out_of_the_files_is_dropped(db_url, conn, files_copy):
    (files_copy / "50_extra.sql").write_text(
        "CREATE OR REPLACE FUNCTION xp._extra() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n")
    migrate(db_url)
    assert conn.execute("SELECT xp._extra() AS n").fetchone() == {"n": 1}
    (files_copy / "50_extra.sql").unlink()
    assert migrate(db_url).functions.dropped == ("xp._extra()",)
    assert conn.execute("SELECT to_regprocedure('xp._extra()') AS f").fetchone() == {"f": None}


def test_a_dropped_function_still_in_use_stops_the_refresh_and_changes_nothing(db_url, conn, pg_dump):
    conn.execute("CREATE FUNCTION xp._obsolete() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")
    conn.execute("CREATE TABLE public.uses_it (n int DEFAULT xp._obsolete())")
    conn.execute("CREATE OR REPLACE FUNCTION xp._setting(p_key text) RETURNS jsonb LANGUAGE sql STABLE "
                 "AS $$ SELECT '1'::jsonb $$")
    before = dump(db_url, pg_dump)
    with pytest.raises(MigrationRefused) as refused:
        migrate(db_url)
    assert str(refused.value) == (
        "nothing was migrated: xp._obsolete() is defined by no file in sql/functions any more, but cannot drop "
        "function xp._obsolete() because other objects depend on it (default value for column n of table "
        "uses_it depends on function xp._obsolete()): drop or change what uses it in a numbered migration"
    )
    assert dump(db_url, pg_dump) == before  # the hand-edited body is still there: the refresh rolled back


def test_a_broken_function_file_rolls_back_the_migrations_applied_with_it(server, files_copy):
    (files_copy / "50_broken.sql").write_text("CREATE OR REPLACE FUNCTION xp._broken( RETURNS int;\n")
    with scratch_database(server.url("postgres"), "xpsync_migrate_broken") as url:
        with pytest.raises(MigrationRefused, match=r"^nothing was migrated: functions/50_broken.sql: syntax error"):
            migrate(url)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT to_regnamespace('xp'), (SELECT count(*) FROM _yoyo_migration)").fetchone()
        assert row == (None, 0)


def test_a_failing_migration_rolls_back_the_ones_before_it(server, tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    shutil.copytree(sql_dir() / "migrations", folder)
    (folder / "0900_broken.sql").write_text("-- 0900_broken: why: a test\nALTER TABLE xp.nope ADD COLUMN n int;\n")
    monkeypatch.setattr(migrate_module, "migrations", lambda: read_migrations(str(folder)))
    with scratch_database(server.url("postgres"), "xpsync_migrate_failing") as url:
        with pytest.raises(MigrationRefused) as refused:
            migrate(url)
        assert str(refused.value) == 'nothing was migrated: 0900_broken: relation "xp.nope" does not exist'
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT to_regnamespace('xp'), (SELECT count(*) FROM _yoyo_migration)").fetchone()
        assert row == (None, 0)


def test_a_migration_outside_a_transaction_is_refused_before_anything_runs(db_url, conn, tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    shutil.copytree(sql_dir() / "migrations", folder)
    (folder / "0900_concurrently.sql").write_text(
        "-- transactional: false\nCREATE INDEX CONCURRENTLY users_name ON xp.users (display_name);\n")
    monkeypatch.setattr(migrate_module, "migrations", lambda: read_migrations(str(folder)))
    with pytest.raises(MigrationRefused, match=r"^0900_concurrently says `transactional: false`"):
        migrate(db_url)
    assert conn.execute("SELECT to_regclass('xp.users_name') AS i").fetchone() == {"i": None}


def test_concurrent_migrates_take_turns(server, pg_dump):
    with scratch_database(server.url("postgres"), "xpsync_migrate_race") as url:
        results, errors = [], []

        def run() -> None:
            try:
                results.append(migrate(url))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert sorted(len(r.applied) for r in results) == [0, 0, len(migrate_module.migrations())]
        assert [r.functions.refreshed for r in results].count(True) == 1
        schema = (Path(__file__).resolve().parents[2] / "sql" / "schema.sql").read_text()
        assert dump(url, pg_dump) == schema[schema.index("CREATE SCHEMA xp;"):]


def test_a_refresh_under_load_fails_no_award(db_url, connect):
    """Re-creating the triggers locks their tables: awards wait, none fails (deadlocks included)."""
    stop = threading.Event()
    errors: list[Exception] = []
    done = [0]

    def award(worker: int) -> None:
        c = connect()
        n = 0
        while not stop.is_set():
            n += 1
            try:  # a rank-up writes the ledger, then the outbox; every fifth crosses a threshold
                c.execute("SELECT xp.award_xp('discord', %s, 300, 'load', %s)", (str(worker), f"load-{worker}-{n}"))
                done[0] += 1
            except psycopg.Error as exc:
                errors.append(exc)

    workers = [threading.Thread(target=award, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    try:
        admin = connect()
        for _ in range(5):
            admin.execute("UPDATE xp.schema_functions SET files = 'stale'")
            assert migrate(db_url).functions.refreshed
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert errors == [] and done[0] > 0


def test_the_refresh_locks_every_table_that_carries_a_trigger_up_front(conn):
    statement = (sql_dir() / "functions" / "00_locks.sql").read_text().split("LOCK TABLE", 1)[1].split(";", 1)[0]
    locked = set(re.findall(r"xp\.(\w+)", statement))
    with_triggers = {r["relname"] for r in conn.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = 'xp'::regnamespace AND NOT t.tgisinternal")}
    assert locked == with_triggers
