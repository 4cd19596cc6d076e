"""SECURITY DEFINER functions pin search_path: objects planted in another schema change nothing,
and text arguments are data, never SQL."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import call, scalar


@pytest.fixture
def planted(conn):
    """A schema full of look-alikes that would defeat every check if they were called."""
    conn.execute("CREATE SCHEMA evil")
    conn.execute("GRANT USAGE ON SCHEMA evil TO PUBLIC")
    conn.execute("CREATE FUNCTION evil.length(text) RETURNS int LANGUAGE sql AS 'SELECT 5'")
    conn.execute("CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT '2000-01-01'::timestamptz$$")
    conn.execute("CREATE FUNCTION evil.random() RETURNS double precision LANGUAGE sql AS 'SELECT 100.0::float8'")
    conn.execute("CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE sql AS $$SELECT '\\x00'::bytea$$")
    conn.execute("CREATE TABLE evil.users (id bigint, xp bigint)")
    conn.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC")
    conn.execute("SET ROLE xp_bot")
    conn.execute("SET search_path = evil, pg_catalog, public")
    return conn


def test_planted_functions_are_never_called(planted):
    with pytest.raises(psycopg.Error) as err:  # an evil length() would accept an empty reason
        call(planted, "award_xp", "telegram", "1", 10, "", "k1")
    assert err.value.sqlstate == "XP002"
    row = call(planted, "award_xp", "telegram", "1", 10, "r" * 200, "k2")
    assert row["applied"] and row["xp"] == 10
    message = call(planted, "record_message", "telegram", "1", "c", "m", 50)
    assert 15 <= message["xp"] - 10 <= 25  # an evil random() would have paid 1000
    daily = call(planted, "claim_daily", "telegram", "1")
    assert daily["next_claim_at"].year > 2020  # an evil now() would say 2000
    code = scalar(planted, "SELECT xp.create_link_code('telegram', '1')")
    assert scalar(planted, "SELECT xp.redeem_link_code('discord', '1', 'WRONGONE')") is None
    assert scalar(planted, "SELECT xp.redeem_link_code('discord', '1', %s)", code) is not None
    planted.execute("RESET ROLE")
    assert scalar(planted, "SELECT count(*) FROM evil.users") == 0


@pytest.mark.parametrize("payload", [
    "'); DELETE FROM xp.ledger; --", "x'; DROP SCHEMA xp CASCADE; --", "$$ DROP TABLE xp.users $$",
    "1; TRUNCATE xp.users", "\\'; SELECT pg_sleep(5); --",
])
def test_text_arguments_are_never_executed(conn, payload):
    conn.execute("SET ROLE xp_bot")
    row = call(conn, "award_xp", "telegram", payload, 10, payload[:200], payload[:200], payload[:200])
    assert row["applied"]
    assert call(conn, "record_message", "discord", payload, payload[:64], payload[:64], 10)["user_id"]
    assert scalar(conn, "SELECT xp.redeem_link_code('discord', %s, %s)", payload, payload) is None
    conn.execute("RESET ROLE")
    assert scalar(conn, "SELECT count(*) FROM xp.ledger") == 2
    assert scalar(conn, "SELECT external_id FROM xp.accounts WHERE platform = 'telegram'") == payload
