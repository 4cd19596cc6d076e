"""Databases made by the history that 0001_baseline squashes are adopted; any
other history is refused with one line, before anything is written.

tests/sql/legacy_migrations/ holds that history (0001_schema … 0010_bulk_awards)
as test data only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from tests.helpers import assert_consistent, scratch_database
from xpsync.migrate import BASELINE, LEGACY, MigrationRefused, migrate, migrations, yoyo_url
from xpsync.schema import dump

LEGACY_DIR = Path(__file__).resolve().parent / "legacy_migrations"


def make_legacy(url: str, upto: str = LEGACY[-1]) -> None:
    """Migrate `url` the way xpsync did before 0001_baseline, up to and including `upto`."""
    history = read_migrations(str(LEGACY_DIR))
    assert [m.id for m in history] == list(LEGACY)
    backend = get_backend(yoyo_url(url))
    try:
        with backend.lock():
            wanted = history[: LEGACY.index(upto) + 1]
            backend.apply_migrations(backend.to_apply(history.__class__(wanted)))
    finally:
        backend.connection.close()


def snapshot(url: str, pg_dump: Path) -> tuple:
    """Everything a refused migrate must leave alone: the xp schema, yoyo's records, the tables of public."""
    with psycopg.connect(url, autocommit=True) as conn:
        records = conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1").fetchall()
        public = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    return dump(url, pg_dump), records, public


@pytest.fixture
def root(server) -> str:
    return server.url("postgres")


def test_a_database_made_by_the_old_migrations_is_adopted_and_ends_like_a_fresh_one(root, server):
    pg_dump = server.bin_dir / "pg_dump"
    with scratch_database(root, "xpsync_adopt_old") as old, scratch_database(root, "xpsync_adopt_new") as new:
        make_legacy(old)
        with psycopg.connect(old, autocommit=True) as conn:  # progress made under the old bodies
            conn.execute("SELECT xp.award_xp('discord', '1', 300, 'chat', 'k1')")
            conn.execute("SELECT xp.import_xp('discord', '2', 5000, 10, 'mee6:g')")
            conn.execute("SELECT xp.claim_daily('telegram', '3')")
            before = conn.execute("SELECT id, xp, coins, rank_id FROM xp.users ORDER BY id").fetchall()
        result = migrate(old)
        assert result.adopted and result.functions.refreshed
        assert result.applied == tuple(m.id for m in migrations() if m.id != BASELINE)
        assert str(result).startswith("adopted a database made by 0001_schema … 0010_bulk_awards as 0001_baseline; ")
        migrate(new)
        assert dump(old, pg_dump) == dump(new, pg_dump)
        with psycopg.connect(old, autocommit=True) as conn:
            assert conn.execute("SELECT id, xp, coins, rank_id FROM xp.users ORDER BY id").fetchall() == before
            assert_consistent(conn)
        again = migrate(old)
        assert (again.applied, again.adopted, again.functions.refreshed) == ((), False, False)


def test_a_partial_old_history_is_refused_with_one_line_and_nothing_changes(root, server):
    with scratch_database(root, "xpsync_adopt_partial") as url:
        make_legacy(url, upto="0007_operations")
        before = snapshot(url, server.bin_dir / "pg_dump")
        with pytest.raises(MigrationRefused) as refused:
            migrate(url)
        assert str(refused.value) == (
            f"the database at {url} was migrated by an older xpsync only up to 0007_operations: bring it to "
            "0010_bulk_awards with an xpsync from before 0001_baseline (its `xpsync migrate`), then run this one again"
        )
        cli = subprocess.run(
            [sys.executable, "-m", "xpsync", "migrate"],
            env={"PATH": os.environ["PATH"], "DATABASE_URL": url}, capture_output=True, text=True, timeout=120,
            check=False,
        )
        assert (cli.returncode, cli.stderr.splitlines()) == (2, [f"xpsync: {refused.value}"])
        assert snapshot(url, server.bin_dir / "pg_dump") == before


def test_migrations_this_release_does_not_have_are_refused(root, server, db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc) "
                     "VALUES ('f00', '0099_from_the_future', now())")
    before = snapshot(db_url, server.bin_dir / "pg_dump")
    with pytest.raises(MigrationRefused, match=r"records migration\(s\) this xpsync does not have "
                                               r"\(0099_from_the_future\): it was migrated by a newer xpsync"):
        migrate(db_url)
    assert snapshot(db_url, server.bin_dir / "pg_dump") == before


def test_old_records_without_the_schema_they_made_are_refused(root, server):
    with scratch_database(root, "xpsync_adopt_gone") as url:
        make_legacy(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA xp CASCADE")
        with pytest.raises(MigrationRefused, match=r"records 0001_schema, .* but has no xp schema: it is in no state"):
            migrate(url)


def every_writer(url: str) -> None:
    """One ledger row (at least) from every function that writes the ledger, the same rows every time."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE xp.settings SET value = '20' WHERE key IN ('message.xp_min', 'message.xp_max')")
        conn.execute("DELETE FROM xp.wheel_prizes WHERE id <> (SELECT min(id) FROM xp.wheel_prizes)")
        conn.execute("SELECT xp.award_xp('discord', '1', 300, 'chat', 'k1')")  # and a rank reward
        conn.execute("SELECT xp.award_coins('discord', '1', -10, 'shop', 'k2')")
        conn.execute("SELECT xp.award_xp('discord', '1', 40, 'import: mee6:g', 'k3')")  # reads like an import
        conn.execute("SELECT xp.claim_daily('telegram', '2')")
        conn.execute("SELECT xp.record_message('telegram', '2', 'chat', 'm1', 20)")
        conn.execute("SELECT xp.record_voice('discord', '1', 's1', 120)")
        conn.execute("SELECT xp.start_game('telegram', '2', 'spin')")
        game = conn.execute("SELECT xp.start_game('telegram', '2', 'guess')").fetchone()[0]
        secret = conn.execute("SELECT state ->> 'secret' FROM xp.game_sessions WHERE id = %s",
                              (game["session_id"],)).fetchone()[0]
        conn.execute("SELECT xp.play_game('telegram', '2', %s, %s)", (game["session_id"], secret))  # an achievement
        conn.execute("SELECT xp.adjust(1, 'xp', 5, 'fix', 'alice')")
        conn.execute("SELECT xp.import_xp('discord', '3', 5000, 10, 'mee6:g')")
        code = conn.execute("SELECT xp.create_link_code('telegram', '2')").fetchone()[0]
        conn.execute("SELECT xp.redeem_link_code('discord', '1', %s)", (code,))


def sources(url: str) -> list[tuple]:
    """(key, source, imported_from) of every ledger row; an admin key's random part left out, and an
    import key's count of earlier imports (older releases put the total there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT regexp_replace(regexp_replace(idempotency_key, '^adjust:.*', 'adjust:'), "
                            "'^(import:.*:(xp|coins)):.*$', '\\1'), source, imported_from "
                            "FROM xp.ledger ORDER BY 1, 2").fetchall()


def test_the_backfill_names_the_writer_of_every_old_row_as_the_writers_now_do(root):
    with scratch_database(root, "xpsync_backfill_old") as old, scratch_database(root, "xpsync_backfill_new") as new:
        make_legacy(old)
        every_writer(old)
        migrate(old)
        migrate(new)
        every_writer(new)
        written = sources(new)
        assert {s for _, s, _ in written} == {"award", "rank_reward", "daily", "message", "voice", "game",
                                              "achievement", "admin", "import"}
        assert ("k3", "award", None) in written
        assert [r for r in written if r[1] == "import"] and all(r[2] == "mee6:g" for r in written if r[1] == "import")
        assert sources(old) == written


def test_families_of_the_past_are_backfilled_from_unlinks_and_merges(root):
    """Persons that shared an account before families existed (0011) are one family, holding what
    each had been paid: the one an unlink left with nothing cannot earn it again."""
    with scratch_database(root, "xpsync_families_old") as old:
        make_legacy(old)
        with psycopg.connect(old, autocommit=True) as conn:
            q = conn.execute
            q("DELETE FROM xp.achievements WHERE criterion <> 'voice_seconds'")
            q("SELECT xp.record_voice('telegram', 't', 's1', 3600)")  # On air for t's person
            for platform, who in (("discord", "d"), ("website", "w")):
                code = q("SELECT xp.create_link_code('telegram', 't')").fetchone()[0]
                q("SELECT xp.redeem_link_code(%s, %s, %s)", (platform, who, code))
            q("SELECT xp.unlink('discord', 'd')")
            q("SELECT xp.unlink('website', 'w')")
            code = q("SELECT xp.create_link_code('website', 'w')").fetchone()[0]
            q("SELECT xp.redeem_link_code('discord', 'd', %s)", (code,))  # the two new persons merge
            q("SELECT xp.record_voice('telegram', 'x', 's1', 3600)")  # a stranger with On air too
        migrate(old)
        with psycopg.connect(old, autocommit=True) as conn:
            q = conn.execute
            families = q("SELECT count(DISTINCT coalesce(family, id)) FROM xp.users").fetchone()[0]
            assert families == 2  # t's (t, and d and w merged) and the stranger's
            q("SELECT xp.record_voice('discord', 'd', 's2', 3600)")
            assert q("SELECT count(*) FROM xp.ledger WHERE reason = 'achievement: On air' AND kind = 'xp'"
                     ).fetchone()[0] == 2
            assert_consistent(conn)
