"""The mini-games (design.md §2): scored in the database, state kept there, one reward per session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.helpers import assert_consistent, scalar


def start(conn, game, who="1"):
    return scalar(conn, "SELECT xp.start_game('telegram', %s, %s)", who, game)


def play(conn, session, move, who="1"):
    return scalar(conn, "SELECT xp.play_game('telegram', %s, %s, %s)", who, session, move)


def secret(conn, session):
    return scalar(conn, "SELECT (state ->> 'secret')::int FROM xp.game_sessions WHERE id = %s", session)


def xp_of(conn, who="1"):
    return scalar(conn, "SELECT xp.profile('telegram', %s)", who)["xp"]


def test_guess_gives_hints_and_pays_50_xp_once_even_if_the_answer_is_sent_twice(conn):
    game = start(conn, "guess")
    assert (game["status"], game["tries_left"]) == ("active", 7)
    assert "secret" not in str(game) and "number" not in game
    n = secret(conn, game["session_id"])
    low = play(conn, game["session_id"], str(n - 1) if n > 1 else "2")
    assert low["hint"] == ("higher" if n > 1 else "lower") and low["tries_left"] == 6
    won = play(conn, game["session_id"], str(n))
    assert (won["status"], won["xp_awarded"], won["number"], won["applied"]) == ("won", 50, n, True)
    again = play(conn, game["session_id"], str(n))
    assert (again["status"], again["xp_awarded"], again["applied"]) == ("won", 0, False)
    profile = scalar(conn, "SELECT xp.profile('telegram', '1')")
    assert profile["stats"]["games_won"] == 1
    assert "first_win" in {a["code"] for a in profile["achievements"]}
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'guess won'") == 1
    assert_consistent(conn)


def test_the_winning_answer_sent_from_many_connections_at_once_pays_once(conn, connect):
    game = start(conn, "guess")
    n = secret(conn, game["session_id"])
    conns = [connect() for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: play(c, game["session_id"], str(n)), conns))
    assert sum(r["applied"] for r in results) == 1
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'guess won'") == 1
    assert scalar(conn, "SELECT games_won FROM xp.users") == 1


def test_seven_wrong_guesses_lose_and_reveal_the_number(conn):
    game = start(conn, "guess")
    n = secret(conn, game["session_id"])
    wrong = [g for g in range(1, 101) if g != n][:7]
    for g in wrong:
        last = play(conn, game["session_id"], str(g))
    assert (last["status"], last["tries_left"], last["number"], last["xp_awarded"]) == ("lost", 0, n, 0)
    assert xp_of(conn) == 0
    assert start(conn, "guess")["session_id"] != game["session_id"]  # a new game after the end


def test_an_unfinished_guess_goes_on_after_a_restart(conn):
    game = start(conn, "guess")
    play(conn, game["session_id"], "50")
    again = start(conn, "guess")  # e.g. the bot restarted and the member pressed /games again
    assert (again["session_id"], again["tries_left"]) == (game["session_id"], 6)


def test_quiz_right_pays_20_wrong_pays_nothing_and_shows_the_answer(conn):
    conn.execute("SELECT xp.set_language('telegram', '1', 'ru')")
    quiz = start(conn, "quiz")
    answer = scalar(conn, "SELECT q.answer FROM xp.quiz_questions q JOIN xp.game_sessions s "
                          "ON q.id = (s.state ->> 'question_id')::int WHERE s.id = %s", quiz["session_id"])
    assert "answer" not in quiz and len(quiz["options"]) == 4
    assert scalar(conn, "SELECT language FROM xp.quiz_questions WHERE question = %s", quiz["question"]) == "ru"
    right = play(conn, quiz["session_id"], str(answer))
    assert (right["status"], right["xp_awarded"]) == ("won", 20)
    quiz2 = start(conn, "quiz")
    answer2 = scalar(conn, "SELECT q.answer FROM xp.quiz_questions q JOIN xp.game_sessions s "
                           "ON q.id = (s.state ->> 'question_id')::int WHERE s.id = %s", quiz2["session_id"])
    wrong = play(conn, quiz2["session_id"], str((answer2 + 1) % 4))
    assert (wrong["status"], wrong["xp_awarded"], wrong["answer"]) == ("lost", 0, answer2)
    assert xp_of(conn) == 20 + 50  # and first_win's 50


def test_the_wheel_spins_once_a_day_per_person_across_platforms(conn):
    spin = start(conn, "spin")
    assert spin["applied"] is True and spin["status"] == "done"
    assert (spin["kind"], spin["amount"]) in {(r["kind"], r["amount"]) for r in
                                              conn.execute("SELECT kind, amount FROM xp.wheel_prizes")}
    assert start(conn, "spin")["applied"] is False
    code = scalar(conn, "SELECT xp.create_link_code('telegram', '1')")
    conn.execute("SELECT xp.redeem_link_code('discord', 'd', %s)", (code,))
    again = scalar(conn, "SELECT xp.start_game('discord', 'd', 'spin')")
    assert (again["applied"], again["session_id"]) == (False, spin["session_id"])
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'wheel'") == 1


def test_the_wheel_follows_its_weights(conn):
    conn.execute("DELETE FROM xp.wheel_prizes")
    conn.execute("INSERT INTO xp.wheel_prizes (kind, amount, weight) VALUES ('xp', 1, 3), ('coins', 2, 1)")
    kinds = [start(conn, "spin", str(i))["kind"] for i in range(400)]
    assert 240 < kinds.count("xp") < 360  # 300 expected


@pytest.mark.parametrize(("move", "needle"), [("abc", "is not a number"), ("0", "between 1 and 100"),
                                              ("101", "between 1 and 100"), (None, "NULL is not a number")])
def test_a_bad_guess_is_xp002_and_costs_no_try(conn, move, needle):
    game = start(conn, "guess")
    with pytest.raises(psycopg.Error) as err:
        play(conn, game["session_id"], move)
    assert err.value.sqlstate == "XP002" and needle in err.value.diag.message_primary
    assert start(conn, "guess")["tries_left"] == 7


@pytest.mark.parametrize("move", ["\u00a05", "5\u2003", "\u30005\u3000", "\t5\n", "\u200b5\ufeff", "5\u202f"])
def test_a_number_between_any_kind_of_space_is_a_move(conn, move):
    game = start(conn, "guess")
    assert play(conn, game["session_id"], move)["guesses"] == [5]


@pytest.mark.parametrize("move", ["\u0665", "\uff15", "\u00b2", "5\u200b5", "\u096b\u096b"])
def test_digits_of_other_scripts_are_xp002_not_an_internal_error(conn, move):
    game = start(conn, "guess")
    with pytest.raises(psycopg.Error) as err:
        play(conn, game["session_id"], move)
    assert err.value.sqlstate == "XP002" and "is not a number" in err.value.diag.message_primary


def test_nobody_plays_another_persons_session_or_an_unknown_game(conn):
    game = start(conn, "guess")
    start(conn, "guess", who="2")
    with pytest.raises(psycopg.Error) as err:
        play(conn, game["session_id"], "5", who="2")
    assert err.value.sqlstate == "XP002"
    with pytest.raises(psycopg.Error) as err:
        start(conn, "poker")
    assert err.value.sqlstate == "XP002" and "unknown game 'poker'" in err.value.diag.message_primary
