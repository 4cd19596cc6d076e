"""Notice preferences members set from a bot: xp.set_notify, xp.set_language, and xp.language to read it."""

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


def language(conn, platform, external_id):
    return scalar(conn, "SELECT xp.language(%s, %s)", platform, external_id)


def test_language_reads_the_persons_choice_and_creates_no_one(conn):
    assert language(conn, "telegram", "1") is None  # never seen
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 0
    call(conn, "award_xp", "telegram", "1", 5, "r", "k")
    assert language(conn, "telegram", "1") == "en"
    conn.execute("SELECT xp.set_language('telegram', '1', 'ru')")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '1')")
    conn.execute("SELECT xp.redeem_link_code('discord', 'd', %s)", (code,))
    assert language(conn, "telegram", "1") == language(conn, "discord", "d") == "ru"  # the person's, on both
    conn.execute("SET ROLE xp_bot")
    assert language(conn, "discord", "d") == "ru"


@pytest.mark.parametrize(("query", "needle"), [
    ("SELECT xp.set_language('telegram', '1', 'de')", "'de' is not offered: expected one of en, ru"),
    ("SELECT xp.set_language('telegram', '1', NULL)", "NULL is not offered"),
    ("SELECT xp.set_notify('telegram', '1', NULL)", "enabled must be true or false"),
    ("SELECT xp.set_notify('irc', '1', true)", "unknown platform 'irc'"),
    ("SELECT xp.language('irc', '1')", "unknown platform 'irc'"),
])
def test_bad_preferences_are_xp002_and_change_nothing(conn, query, needle):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query)
    assert err.value.sqlstate == "XP002"
    assert needle in err.value.diag.message_primary
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 0


def test_the_apps_language_is_spoken_until_the_person_chooses_one(conn):
    assert scalar(conn, "SELECT xp.set_client_language('telegram', '1', 'ru-RU')") == "ru"  # first sight: created
    assert scalar(conn, "SELECT client_language FROM xp.accounts") == "ru"
    assert language(conn, "telegram", "1") == recipient(conn)["language"] == "ru"
    assert scalar(conn, "SELECT xp.profile('telegram', '1') ->> 'language'") == "ru"
    assert scalar(conn, "SELECT xp.set_client_language('telegram', '1', 'pt_BR')") == "en"  # not offered
    assert recipient(conn)["language"] == "en"
    conn.execute("SELECT xp.set_client_language('telegram', '1', 'ru')")
    conn.execute("SELECT xp.set_language('telegram', '1', 'en')")  # a choice beats the app
    assert language(conn, "telegram", "1") == recipient(conn)["language"] == "en"
    assert scalar(conn, "SELECT xp.set_client_language('telegram', '1', 'ru')") == "en"
    assert scalar(conn, "SELECT language FROM xp.users") == "en"


def test_a_merge_keeps_the_choice_either_side_made(conn):
    conn.execute("SELECT xp.set_client_language('telegram', '1', 'en')")
    conn.execute("SELECT xp.set_language('telegram', '1', 'ru')")
    code = scalar(conn, "SELECT xp.create_link_code('discord', 'd')")  # the person merged into chose nothing
    conn.execute("SELECT xp.redeem_link_code('telegram', '1', %s)", (code,))
    assert language(conn, "discord", "d") == recipient(conn)["language"] == "ru"


def test_an_unchanged_app_language_writes_nothing(conn):
    conn.execute("SELECT xp.set_client_language('telegram', '1', 'ru')")
    before = scalar(conn, "SELECT xmin::text FROM xp.accounts")
    conn.execute("SELECT xp.set_client_language('telegram', '1', 'RU')")
    assert scalar(conn, "SELECT xmin::text FROM xp.accounts") == before


@pytest.mark.parametrize("tag", ["", "x", "-", "ru!", "1234", "a" * 9, None])
def test_a_malformed_app_language_is_xp002_and_creates_no_one(conn, tag):
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT xp.set_client_language('telegram', '1', %s)", (tag,))
    assert err.value.sqlstate == "XP002" and "is not a language tag" in err.value.diag.message_primary
    assert scalar(conn, "SELECT count(*) FROM xp.users") == 0
