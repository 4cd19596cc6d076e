"""sql/functions/: every function, trigger and grant, re-applied by `xpsync migrate`.

The files are applied in name order, in one transaction, whenever a migration
was applied or what the database runs differs from the files:

- `xp.schema_functions` records a hash of the files and a fingerprint of what
  they produced in the catalog (function definitions, comments, triggers,
  privileges). When both still match, nothing is done, so a `migrate` with
  nothing to do stays cheap and leaves the catalog alone. An older release's
  bodies (another file hash) and a body edited by hand (another fingerprint)
  are both refreshed.
- Before the files run, every xp function is marked; `CREATE OR REPLACE`
  clears the mark of each function a file defines. Whatever is still marked
  afterwards is defined by no file any more and is dropped, and so is every
  trigger on an xp table that no file (re)created: the refresh runs in a
  subtransaction of its own, so every catalog row it writes carries its xid
  (a file therefore opens no SAVEPOINT of its own).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

# What a function carries until a file defines it again (CREATE OR REPLACE resets proconfig).
_MARK_VALUE = "xpsync: defined by no file in sql/functions"
_MARK = f"application_name={_MARK_VALUE}"

_MARK_ALL = f"""
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'xp'::regnamespace AND p.prokind IN ('f', 'p') LOOP
        EXECUTE pg_catalog.format('ALTER ROUTINE %s SET application_name = %L', f, '{_MARK_VALUE}');
    END LOOP;
END
$$
"""

_STALE_TRIGGERS = """
SELECT pg_catalog.quote_ident(t.tgname) || ' ON ' || t.tgrelid::regclass::text AS name,
       'DROP TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ' ON ' || t.tgrelid::regclass::text AS statement
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'xp'::regnamespace AND NOT t.tgisinternal
   AND t.xmin <> %s::xid
 ORDER BY 1
"""

_STALE_FUNCTIONS = """
SELECT p.oid::regprocedure::text AS name, 'DROP ROUTINE ' || p.oid::regprocedure::text AS statement
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'xp'::regnamespace AND p.proconfig @> ARRAY[%s]
 ORDER BY 1
"""

# Everything the function files decide, as one digest: a change by anyone shows.
_FINGERPRINT = """
SELECT pg_catalog.md5(coalesce(pg_catalog.string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT 'function ' || p.oid::regprocedure || E'\\n'
           || CASE WHEN p.prokind IN ('f', 'p') THEN pg_catalog.pg_get_functiondef(p.oid) ELSE '' END
           || coalesce(p.proacl::text, '') || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '')
      FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'xp'::regnamespace
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || t.tgenabled::text
      FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'xp'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || coalesce(c.relacl::text, '')
      FROM pg_catalog.pg_class c WHERE c.relnamespace = 'xp'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
    UNION ALL
    SELECT 'schema ' || coalesce(n.nspacl::text, '') FROM pg_catalog.pg_namespace n WHERE n.nspname = 'xp'
) AS catalog (item)
"""


_RECORD = """
INSERT INTO xp.schema_functions (files, catalog) VALUES (%s, %s)
    ON CONFLICT (only_row) DO UPDATE SET files = EXCLUDED.files, catalog = EXCLUDED.catalog, applied_at = now()
RETURNING xmin::text
"""


class FunctionFileError(Exception):
    """A function file failed to apply (or left something no file defines that others still need)."""


@dataclass(frozen=True)
class Refresh:
    refreshed: bool
    dropped: tuple[str, ...] = ()


def files_digest(files: Sequence[Path]) -> str:
    """sha256 over the names and contents of the function files, in the order they are applied."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def up_to_date(conn: psycopg.Connection, files: Sequence[Path]) -> bool:
    """The database runs exactly what the files define, as recorded by the last refresh."""
    if conn.execute("SELECT to_regclass('xp.schema_functions') IS NULL").fetchone()[0]:  # type: ignore[index]
        return False
    row = conn.execute(f"SELECT files, catalog, ({_FINGERPRINT}) FROM xp.schema_functions").fetchone()
    return row is not None and row[0] == files_digest(files) and row[1] == row[2]


def refresh(conn: psycopg.Connection, files: Sequence[Path]) -> Refresh:
    """Apply the files inside the caller's transaction, drop what they no longer define, record it."""
    # the refresh's own subtransaction: every catalog row it writes carries this one xid
    conn.execute("SAVEPOINT xpsync_functions")
    xid = conn.execute(_RECORD, ("", "")).fetchone()[0]  # type: ignore[index]
    conn.execute(_MARK_ALL)
    for path in files:
        try:
            conn.execute(path.read_text(encoding="utf-8"))
        except psycopg.Error as exc:
            raise FunctionFileError(f"{path.parent.name}/{path.name}: {first_line(exc)}") from exc
    dropped = []
    stale = conn.execute(_STALE_TRIGGERS, (xid,)).fetchall() + conn.execute(_STALE_FUNCTIONS, (_MARK,)).fetchall()
    for name, statement in stale:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            raise FunctionFileError(
                f"{name} is defined by no file in sql/functions any more, but {first_line(exc)}: "
                "drop or change what uses it in a numbered migration"
            ) from exc
        log.info("dropped %s: no file in sql/functions defines it", name)
        dropped.append(name)
    conn.execute(_RECORD, (files_digest(files), conn.execute(_FINGERPRINT).fetchone()[0]))  # type: ignore[index]
    conn.execute("RELEASE SAVEPOINT xpsync_functions")
    return Refresh(True, tuple(dropped))


def first_line(exc: psycopg.Error) -> str:
    """The primary message of a database error on one line, with the first line of its detail."""
    diag = exc.diag
    text = (diag.message_primary if diag and diag.message_primary else str(exc)).strip().splitlines()[0]
    if diag and diag.message_detail:
        text += f" ({diag.message_detail.strip().splitlines()[0]})"
    return text
