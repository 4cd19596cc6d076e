"""Operators' wording of the texts (design.md): a body may use only the placeholders its callers
fill in, checked on every write (the panel's xp.set_text or psql alike); every change is audited,
counts as a config change and rings xp_config, so running bots and listeners read again."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import scalar


def refusal(conn, query, *args):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query, args)
    return err.value.sqlstate, str(err.value)


def test_a_text_is_reworded_audited_and_counted_as_a_config_change(conn):
    version = scalar(conn, "SELECT xp.config_version()")
    assert scalar(conn, "SELECT xp.set_text('daily_ok', 'en', '🎁 {xp} XP, {coins} coins, day {streak}!')") is True
    assert conn.execute("SELECT * FROM xp.texts()").fetchall() == [
        {"key": "daily_ok", "language": "en", "body": "🎁 {xp} XP, {coins} coins, day {streak}!"}]
    assert scalar(conn, "SELECT xp.config_version()") == version + 1
    # the same words again change nothing
    assert scalar(conn, "SELECT xp.set_text('daily_ok', 'en', '🎁 {xp} XP, {coins} coins, day {streak}!')") is False
    assert scalar(conn, "SELECT xp.config_version()") == version + 1
    assert scalar(conn, "SELECT action FROM xp.admin_audit ORDER BY id DESC LIMIT 1") == "texts.insert"
    assert scalar(conn, "SELECT xp.set_text('daily_ok', 'en', NULL)") is True  # back to the code's words
    assert conn.execute("SELECT * FROM xp.texts()").fetchall() == []
    assert scalar(conn, "SELECT xp.config_version()") == version + 2


@pytest.mark.parametrize("body, problem", [
    ("Hi {user}!", "unknown placeholder {user}"),
    ("Hi {0}!", "{0} is not a placeholder"),
    ("Hi {name!r}!", "{name!r} is not a placeholder"),
    ("Hi {name:>10}!", "is not a placeholder"),
    ("Hi {name.upper}!", "is not a placeholder"),
    ("Hi {name", "a brace without its pair"),
    ("Hi name}", "a brace without its pair"),
    ("", "1 to 2000 characters"),
])
def test_a_body_that_could_not_be_rendered_is_refused(conn, body, problem):
    state, message = refusal(conn, "SELECT xp.set_text('welcome', 'en', %s)", body)
    assert state == "XP002" and problem in message
    state, message = refusal(conn, "SELECT xp.preview_text('welcome', %s)", body)
    assert state == "XP002" and problem in message
    assert scalar(conn, "SELECT count(*) FROM xp.texts") == 0


def test_psql_edits_are_checked_too(conn):
    state, message = refusal(conn, "INSERT INTO xp.texts (key, language, body) VALUES ('welcome', 'ru', 'Привет, {nick}')")
    assert state == "XP002" and "unknown placeholder {nick}" in message and "{name}" in message
    conn.execute("INSERT INTO xp.texts (key, language, body) VALUES ('welcome', 'ru', 'Привет, {name}')")
    state, _ = refusal(conn, "UPDATE xp.texts SET body = 'Привет, {who}' WHERE key = 'welcome'")
    assert state == "XP002"
    assert scalar(conn, "SELECT body FROM xp.texts") == "Привет, {name}"


def test_unknown_texts_and_languages_are_refused(conn):
    assert refusal(conn, "SELECT xp.set_text('nope', 'en', 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.set_text('nope', 'en', NULL)")[0] == "XP002"
    assert refusal(conn, "SELECT xp.set_text('welcome', 'de', 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.set_text('welcome', NULL, 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.preview_text('nope', 'x')")[0] == "XP002"


def test_a_preview_fills_the_samples_and_keeps_literal_braces(conn):
    preview = scalar(conn, "SELECT xp.preview_text('notice_rank_up', '{{{emoji}}} {name} {{name}}')")
    assert preview == "{⭐} E I {name}"
    assert scalar(conn, "SELECT count(*) FROM xp.texts") == 0  # a preview saves nothing


def test_the_catalogue_lists_every_editable_text_with_its_wording(conn):
    conn.execute("SELECT xp.set_text('welcome', 'ru', 'Привет, {name}')")
    rows = {r["key"]: r for r in conn.execute("SELECT * FROM xp.text_catalogue()")}
    assert rows["welcome"]["placeholders"] == ["name"] and rows["welcome"]["ru"] == "Привет, {name}"
    assert rows["welcome"]["en"] is None
    # every placeholder has a sample, so that every preview renders
    for key, row in rows.items():
        assert set(row["samples"]) == set(row["placeholders"]), key


def test_a_change_rings_xp_config_for_running_processes(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_config")
    conn.execute("SELECT xp.set_text('welcome', 'en', 'Hello {name}')")
    heard = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert heard == ["texts"]


@pytest.mark.parametrize("body", [
    "{{{emoji}}} {name}", "}}{name}{{", "{{name}}", "{emoji}{name}", "{{}}", "{{{", "}}}", "{}", "{ name}",
    "{name}}", "{{name}", "plain", "{{{{emoji}}}}",
])
def test_the_database_reads_a_body_as_python_formats_it(conn, body):
    """What saving accepts is what str.format renders, and a preview is str.format's output."""
    samples = {"emoji": "⭐", "name": "E I"}
    try:
        expected: str | None = body.format(**samples)
    except (ValueError, KeyError, IndexError):
        expected = None
    try:
        preview = scalar(conn, "SELECT xp.preview_text('notice_rank_up', %s)", body)
    except psycopg.Error as exc:
        assert exc.sqlstate == "XP002"
        preview = None
    assert preview == expected


def test_the_code_defaults_of_every_editable_text_use_only_its_placeholders(conn):
    from xpsync.texts import CATALOGUE

    for row in conn.execute("SELECT key FROM xp.text_keys"):
        for language, words in CATALOGUE.items():
            assert row["key"] in words, (row["key"], language)
            # saving the default itself is accepted, and it renders with the samples
            conn.execute("SELECT xp.preview_text(%s, %s)", (row["key"], words[row["key"]]))
