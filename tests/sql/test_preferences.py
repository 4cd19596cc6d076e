"""Notice preferences members set from a bot: xp.set_notify and xp.set_language."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import call, scalar


def recipient(conn):
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = 'telegram' AND external_id = '1'")
    return conn.execute("SELECT * FROM xp.telegram_recipient(%s)", (uid,)).fetchone()


def test_language_and_opt_out_reach_what_the_listener_reads(conn):
    assert scalar(conn, "SELECT xp.set_language('telegram', '1', 'RU')") == "ru"
    assert (recipient(conn)["language"], recipient(conn)["notify"]) == ("ru", True)
    assert scalar(conn, "SELECT xp.set_notify('telegram', '1', false)") is False
    assert recipient(conn)["notify"] is False
    call(conn, "award_xp", "telegram", "1", 300, "r", "k")  # a rank-up nobody is told about
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'telegram'") == 0
    conn.execute("SELECT xp.set_notify('telegram', '1', true)")
    call(conn, "award_xp", "telegram", "1", 500, "r", "k2")
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'telegram'") == 1


def test_preferences_belong_to_the_person_across_platforms(conn):
    conn.execute("SELECT xp.set_language('discord', 'd', 'ru')")
    code = scalar(conn, "SELECT xp.create_link_code('discord', 'd')")
    conn.execute("SELECT xp.redeem_link_code('telegram', '1', %s)", (code,))
    assert recipient(conn)["language"] == "ru"


@pytest.mark.parametrize(("query", "needle"), [
    ("SELECT xp.set_language('telegram', '1', 'de')", "'de' is not offered: expected one of en, ru"),
    ("SELECT xp.set_language('telegram', '1', NULL)", "NULL is not offered"),
    ("SELECT xp.set_notify('telegram', '1', NULL)", "enabled must be true or false"),
    ("SELECT xp.set_notify('irc', '1', true)", "unknown platform 'irc'"),
])
def test_bad_preferences_are_xp002_and_change_nothing(conn, query, needle):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query)
    assert err.value.sqlstate == "XP002"
    assert needle in err.value.diag.message_primary
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 0
