"""`xpsync reconcile|stats|cleanup|import|export` against a real database."""

from __future__ import annotations

import csv
import io
import json
import re

import psycopg
import pytest

from tests.helpers import assert_consistent, call, ledger_rows, scalar, scratch_database
from tests.xpsync.test_cli import xpsync

MEE6_PAGES = """[
  {"page": 0, "players": [
    {"id": "111", "username": "alpha", "xp": 5000, "level": 9, "message_count": 400},
    {"id": "222", "username": "beta", "xp": 800, "level": 4, "message_count": 50}
  ]},
  {"page": 1, "players": [
    {"id": "333", "username": "gamma", "xp": 10, "level": 0, "message_count": 1}
  ]}
]
"""


def run(db_url, *args):
    return xpsync(*args, env={"DATABASE_URL": db_url})


def test_mee6_import_previews_applies_and_is_idempotent(db_url, conn, tmp_path):
    file = tmp_path / "leaderboard.json"
    file.write_text(MEE6_PAGES)
    dry = run(db_url, "import", "mee6", str(file), "--guild", "42", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for rank in ("F I", "F III", "E III"):
        assert re.search(rf"│ {rank}\s+│ 1 ", dry.stdout), dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert ledger_rows(conn) == 0

    first = run(db_url, "import", "mee6", str(file), "--guild", "42")
    assert first.returncode == 0, first.stderr
    assert "imported 3 row(s) of 3 account(s): 3 changed" in first.stdout
    rows = ledger_rows(conn)
    again = run(db_url, "import", "mee6", str(file), "--guild", "42")
    assert "3 already up to date" in again.stdout
    assert ledger_rows(conn) == rows
    people = conn.execute("SELECT a.external_id, u.xp, u.display_name FROM xp.users u "
                          "JOIN xp.accounts a ON a.user_id = u.id ORDER BY 1").fetchall()
    assert people == [{"external_id": "111", "xp": 5000, "display_name": "alpha"},
                      {"external_id": "222", "xp": 800, "display_name": "beta"},
                      {"external_id": "333", "xp": 10, "display_name": "gamma"}]
    assert_consistent(conn)


def test_imported_people_get_their_roles_on_the_next_reconcile(db_url, conn, tmp_path):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('42', 2, 'r2')")
    file = tmp_path / "leaderboard.json"
    file.write_text(MEE6_PAGES)
    run(db_url, "import", "mee6", str(file), "--guild", "42")
    conn.execute("UPDATE xp.deliveries SET status = 'dead'")  # say the rank-up events never got through
    result = run(db_url, "reconcile")
    assert result.returncode == 0
    assert result.stdout.count("discord_roles") == 2  # alpha and beta are above rank 1
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE status = 'pending'") == 2


@pytest.mark.parametrize(("content", "message"), [
    ('{"players": [{"id": "1", "xp": 5}, \n {"id": "2", "xp": "lots"}]}', "line 2: xp 'lots' is not a whole number"),
    ('{"players": [{"id": "1", "xp": 5},\n\n {"xp": 7}]}', "line 3: a player needs an \"id\" and an \"xp\""),
    ('{"players": [\n {"id": "1", "xp": -5}]}', "line 2: xp -5 is negative"),
    ('{"players": [ {"id": "1",, }]}', "line 1: not valid JSON"),
    ('{"guild": {}}', "line 1: not a MEE6 leaderboard page"),
])
def test_a_malformed_mee6_file_names_the_line_and_writes_nothing(db_url, conn, tmp_path, content, message):
    file = tmp_path / "bad.json"
    file.write_text(content)
    result = run(db_url, "import", "mee6", str(file), "--guild", "42")
    assert result.returncode == 1
    error = result.stderr.strip()
    assert error.startswith(f"xpsync: {file} {message}") and error.endswith("; nothing was imported")
    assert "\n" not in error
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0


@pytest.mark.parametrize(("line", "message"), [
    ("telegram,777,abc", "line 3: xp 'abc' is not a whole number"),
    ("slack,777,5", "line 3: unknown platform 'slack'"),
    ("telegram,777", "line 3: expected platform,external_id,xp[,coins][,display_name][,source], got 2 fields"),
    ("discord,555,10", "line 3: discord:555 is listed already on line 2; which total is meant?"),
    ("telegram,,5", "line 3: the account id '' must be 1 to 200 characters"),
    ("telegram,777,5,-1", "line 3: coins -1 is negative"),
])
def test_a_malformed_csv_names_the_line_and_writes_nothing(db_url, conn, tmp_path, line, message):
    file = tmp_path / "people.csv"
    file.write_text(f"platform,external_id,xp,coins,display_name\ndiscord,555,3000,5,Ann\n{line}\n")
    result = run(db_url, "import", "csv", str(file))
    assert result.returncode == 1
    error = result.stderr.strip()
    assert error.startswith(f"xpsync: {file} {message}") and error.endswith("; nothing was imported")
    assert scalar(conn, "SELECT count(*) FROM xp.accounts") == 0


def test_import_mee6_without_a_guild_is_one_line(db_url, tmp_path):
    file = tmp_path / "l.json"
    file.write_text(MEE6_PAGES)
    result = run(db_url, "import", "mee6", str(file))
    assert (result.returncode, result.stderr.strip()) == (
        2, "xpsync: import mee6 needs --guild ID (or XPSYNC_GUILD): the guild the leaderboard is from")


def balances(url):
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("SELECT sum(xp), sum(coins), count(*) FROM xp.users").fetchone()


def test_export_lists_every_account_formula_safe_and_importing_it_back_changes_nothing(db_url, conn, tmp_path):
    call(conn, "award_xp", "telegram", "10", 300, "r", "k1", "Ivan")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '10')")
    conn.execute("SELECT xp.redeem_link_code('discord', '20', %s)", (code,))  # Two worlds: +100 XP, +100 coins
    call(conn, "award_xp", "discord", "30", 50, "r", "k2", "=HYPERLINK(\"http://evil\")")
    call(conn, "award_coins", "discord", "30", 7, "r", "k3")
    call(conn, "import_xp", "discord", "40", 5000, 10, "mee6:42", "@old")
    call(conn, "award_coins", "discord", "40", -300, "shop", "k4")  # spent more than earned here
    call(conn, "award_xp", "telegram", "-1001", 5, "r", "k5")
    exported = run(db_url, "export", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert rows[0] == ["platform", "external_id", "xp", "coins", "display_name", "source"]
    assert {(r[0], r[1]) for r in rows[1:]} == {("telegram", "10"), ("discord", "20"), ("discord", "30"),
                                                ("discord", "40"), ("telegram", "'-1001")}
    assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for r in rows for cell in r[1:2] + r[4:])
    own = scalar(conn, "SELECT 'xpsync:' || id FROM xp.instance")
    assert ["discord", "40", "5000", "10", "'@old", "mee6:42"] in rows
    assert ["discord", "40", "0", "-300", "'@old", own] in rows
    file = tmp_path / "out.csv"
    file.write_text(exported.stdout)
    before = ledger_rows(conn), balances(db_url)
    again = run(db_url, "import", "csv", str(file))
    assert again.returncode == 0, again.stderr
    assert "0 changed" in again.stdout
    assert (ledger_rows(conn), balances(db_url)) == before
    assert run(db_url, "export", "csv").stdout == exported.stdout
    assert_consistent(conn)


def test_an_export_imported_elsewhere_brings_the_totals_and_does_so_once(db_url, conn, server, tmp_path):
    call(conn, "award_xp", "telegram", "10", 900, "r", "k1", "Ivan")  # rank 3: its rewards come from the ladder
    call(conn, "import_xp", "discord", "40", 5000, 0, "mee6:42")
    call(conn, "award_coins", "discord", "40", -300, "shop", "k2")
    file = tmp_path / "out.csv"
    file.write_text(run(db_url, "export", "csv").stdout)
    with scratch_database(server.url("postgres"), "xpsync_export_target") as other:
        assert run(other, "migrate").returncode == 0
        first = run(other, "import", "csv", str(file))
        assert first.returncode == 0, first.stderr
        assert balances(other) == balances(db_url)
        assert "0 changed" in run(other, "import", "csv", str(file)).stdout
        assert balances(other) == balances(db_url)
        mee6 = tmp_path / "mee6.json"  # the same MEE6 board imported there too: already in the totals
        mee6.write_text('{"players": [{"id": "40", "xp": 5000}]}')
        assert "0 changed" in run(other, "import", "mee6", str(mee6), "--guild", "42").stdout
        assert balances(other) == balances(db_url)


def test_reconcile_reports_drift_then_fixes_it(db_url, conn):
    call(conn, "award_xp", "telegram", "1", 300, "r", "k1")
    conn.execute("UPDATE xp.users SET xp = 1")
    dry = run(db_url, "reconcile", "--dry-run")
    assert dry.returncode == 1 and "balance_xp" in dry.stdout and "nothing fixed" in dry.stdout
    fix = run(db_url, "reconcile")
    assert fix.returncode == 0 and "all fixed" in fix.stdout
    assert run(db_url, "reconcile").stdout.strip() == "no drift"
    assert_consistent(conn)


def test_reconcile_takes_the_board_marks_but_a_dry_run_does_not(db_url, conn):
    call(conn, "award_xp", "telegram", "1", 150, "r", "k1")
    assert run(db_url, "reconcile", "--dry-run").returncode == 0
    assert scalar(conn, "SELECT count(*) FROM xp.board_marks_taken") == 0
    assert run(db_url, "reconcile").returncode == 0
    assert scalar(conn, "SELECT count(*) FROM xp.board_marks_taken") == 1


def test_reconcile_moves_people_after_a_threshold_change(db_url, conn):
    call(conn, "award_xp", "telegram", "1", 150, "r", "k1")
    conn.execute("UPDATE xp.ranks SET min_xp = 100 WHERE id = 2")
    result = run(db_url, "reconcile")
    assert "rank thresholds: moved 1 people" in result.stdout
    assert scalar(conn, "SELECT rank_id FROM xp.users") == 2


def test_stats_json_and_cleanup(db_url, conn):
    call(conn, "award_xp", "discord", "1", 300, "r", "k1")
    stats = json.loads(run(db_url, "stats", "--json").stdout)
    assert stats["deliveries"] == {"discord": {"pending": 1}} and stats["people"] == 1
    assert "deliveries" in run(db_url, "stats").stdout
    assert run(db_url, "cleanup").stdout.strip() == "removed 0 row(s) older than 30 days"
    bad = run(db_url, "cleanup", "--older-than", "banana")
    assert (bad.returncode, bad.stderr.strip()) == (1, 'xpsync: invalid input syntax for type interval: "banana"')


def test_admin_functions_refuse_other_roles_from_the_cli_too(db_url, conn):
    call(conn, "award_xp", "discord", "1", 300, "r", "k1")
    with psycopg.connect(db_url, autocommit=True) as other:
        other.execute("SET ROLE xp_bot")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute("SELECT xp.stats()")
