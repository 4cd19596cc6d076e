"""The two kinds of SQL file keep to their kind: state in sql/migrations/, behaviour in
sql/functions/, each function body in exactly one place, every grant in 99_grants.sql."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

SQL = Path(__file__).resolve().parents[2] / "sql"
MIGRATIONS = sorted((SQL / "migrations").glob("*.sql"))
FUNCTIONS = sorted((SQL / "functions").glob("*.sql"))
BEHAVIOUR = re.compile(r"^\s*(CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|TRIGGER)|GRANT|REVOKE|"
                       r"ALTER\s+(FUNCTION|ROUTINE)|COMMENT\s+ON\s+FUNCTION)\b", re.IGNORECASE | re.MULTILINE)
DEFINED = re.compile(r"^CREATE OR REPLACE FUNCTION xp\.(\w+)\(", re.MULTILINE)


def code(path: Path) -> str:
    """The file without its comments."""
    return re.sub(r"--[^\n]*", "", path.read_text())


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: p.name)
def test_a_migration_holds_state_only_and_opens_by_saying_why(path):
    assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", path.name)
    assert path.read_text().startswith(f"-- {path.stem}: why: ")
    assert BEHAVIOUR.findall(code(path)) == []


def test_migrations_are_numbered_in_order_without_a_number_twice():
    # lines of work in flight at once number theirs in ranges of their own (the web: 0030-0039), so
    # that two branches never make the same number; gaps between ranges are expected
    numbers = [int(p.name[:4]) for p in MIGRATIONS]
    assert numbers == sorted(set(numbers)) and numbers[:1] == [1]


def test_every_function_is_defined_once_and_only_with_create_or_replace():
    text = "".join(code(p) for p in FUNCTIONS)
    assert [n for n, k in Counter(DEFINED.findall(text)).items() if k > 1] == []
    assert re.findall(r"^CREATE\s+(FUNCTION|TRIGGER)", text, re.IGNORECASE | re.MULTILINE) == []


def test_grants_live_in_99_grants_only():
    for path in FUNCTIONS:
        grants = re.findall(r"^\s*(GRANT|REVOKE)\b", code(path), re.IGNORECASE | re.MULTILINE)
        assert bool(grants) == (path.name == "99_grants.sql"), path.name


def test_the_database_runs_exactly_the_functions_the_files_define(conn):
    in_db = Counter(r["proname"] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'xp'::regnamespace"))
    in_files = Counter(DEFINED.findall("".join(code(p) for p in FUNCTIONS)))
    assert in_db == in_files
