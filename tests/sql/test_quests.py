"""Quests (design.md): counter quests complete in the transaction of the activity, submitted ones
wait for an operator; every completion pays through the ledger under its own key, at most
per_person times per window to the people who share once-only rewards (a family), whatever links,
unlinks, double submissions or concurrent approvals happen."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.clock import pass_days
from tests.helpers import assert_consistent, call, scalar


@pytest.fixture(autouse=True)
def _no_cooldown(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")


def quest(conn, code, proof, target=1, period="day", per_person=1, xp=50, coins=10, **more):
    columns = {"code": code, "title": json.dumps({"en": f"Quest {code}", "ru": f"Задание {code}"}),
               "proof": proof, "target": target, "period": period, "per_person": per_person,
               "reward_xp": xp, "reward_coins": coins, **more}
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    conn.execute(f"INSERT INTO xp.quests ({names}) VALUES ({marks})", list(columns.values()))


def message(conn, who, n):
    return call(conn, "record_message", "telegram", who, "chat", f"{who}-{n}", 10)


def quest_rows(conn, key_like="quest:%"):
    return conn.execute("SELECT user_id, kind, delta, idempotency_key FROM xp.ledger "
                        "WHERE source = 'quest' AND idempotency_key LIKE %s ORDER BY id", (key_like,)).fetchall()


def code_for(conn, platform, external_id):
    return scalar(conn, "SELECT xp.create_link_code(%s, %s)", platform, external_id)


def link(conn, issuer=("telegram", "t1"), redeemer=("discord", "d1")):
    return scalar(conn, "SELECT xp.redeem_link_code(%s, %s, %s)", *redeemer, code_for(conn, *issuer))


def submit(conn, who, code, proof="screenshot", platform="telegram"):
    return scalar(conn, "SELECT xp.submit_quest(%s, %s, %s, %s)", platform, who, code, proof)


def review(conn, submission, approve=True, note=None):
    return scalar(conn, "SELECT xp.review_submission(%s, %s, %s)", submission, approve, note)


def refusal(conn, query, *args):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query, args)
    return err.value.sqlstate, str(err.value)


# --- counter quests --------------------------------------------------------------------------------


def test_a_message_quest_completes_in_the_transaction_of_the_message_that_reaches_it(conn):
    quest(conn, "chatter", "messages", target=3)
    message(conn, "t1", 1)
    message(conn, "t1", 2)
    assert quest_rows(conn) == []
    before = scalar(conn, "SELECT xp FROM xp.users")
    third = message(conn, "t1", 3)
    rows = quest_rows(conn)
    assert [(r["kind"], r["delta"]) for r in rows] == [("xp", 50), ("coins", 10)]
    # the message's own result already holds the reward: one call, one transaction
    message_xp = scalar(conn, "SELECT delta FROM xp.ledger WHERE source = 'message' ORDER BY id DESC LIMIT 1")
    assert third["xp"] == before + message_xp + 50
    assert third["coins"] == 10
    for n in range(4, 10):
        message(conn, "t1", n)
    assert len(quest_rows(conn)) == 2  # once per day
    event = conn.execute("SELECT payload FROM xp.events WHERE kind = 'quest_completed'").fetchone()
    assert event["payload"]["quest"] == "chatter" and event["payload"]["reward_xp"] == 50
    assert_consistent(conn)


def test_a_quest_pays_per_person_times_a_window_and_again_the_next_window(conn):
    quest(conn, "chatter", "messages", target=2, per_person=2, coins=0)
    for n in range(10):
        message(conn, "t1", n)
    assert len(quest_rows(conn)) == 2
    pass_days(conn)
    for n in range(10, 14):
        message(conn, "t1", n)
    assert len(quest_rows(conn)) == 4
    assert_consistent(conn)


def test_voice_games_and_streak_quests_follow_their_counters(conn):
    quest(conn, "talker", "voice_minutes", target=2, period="week", coins=0)
    quest(conn, "winner", "games_won", target=1, period="once", xp=0, coins=30)
    quest(conn, "regular", "streak", target=2, period="month", coins=0, xp=70)
    call(conn, "record_voice", "discord", "d1", "s1", 90)
    assert quest_rows(conn) == []
    call(conn, "record_voice", "discord", "d1", "s1", 130)  # 130 s: two minutes in the week
    assert [r["delta"] for r in quest_rows(conn)] == [50]

    game = scalar(conn, "SELECT xp.start_game('telegram', 't1', 'guess')")
    secret = scalar(conn, "SELECT (state ->> 'secret')::int FROM xp.game_sessions WHERE id = %s", game["session_id"])
    conn.execute("SELECT xp.play_game('telegram', 't1', %s, %s)", (game["session_id"], str(secret)))
    assert [r["delta"] for r in quest_rows(conn)][-1] == 30

    call(conn, "claim_daily", "telegram", "t2")
    assert len(quest_rows(conn)) == 2
    pass_days(conn)
    call(conn, "claim_daily", "telegram", "t2")  # a streak of 2
    assert [r["delta"] for r in quest_rows(conn)][-1] == 70
    assert_consistent(conn)


def test_a_quest_outside_its_dates_or_inactive_counts_nothing(conn):
    quest(conn, "later", "messages", starts_at="2999-01-01T00:00:00Z")
    quest(conn, "off", "messages", active=False)
    quest(conn, "over", "messages", starts_at="2000-01-01T00:00:00Z", ends_at="2000-02-01T00:00:00Z")
    message(conn, "t1", 1)
    assert quest_rows(conn) == []
    listed = conn.execute("SELECT code FROM xp.quest_list('telegram', 't1')").fetchall()
    assert listed == []


def test_the_quest_list_shows_progress_completions_and_what_is_left(conn):
    quest(conn, "chatter", "messages", target=3, per_person=2)
    quest(conn, "show", "submission")
    for n in range(4):
        message(conn, "t1", n)
    submit(conn, "t1", "show")
    rows = {r["code"]: r for r in conn.execute("SELECT * FROM xp.quest_list('telegram', 't1')")}
    assert (rows["chatter"]["progress"], rows["chatter"]["completed"], rows["chatter"]["left_to_earn"]) == (4, 1, 1)
    assert rows["show"]["pending"] is True and rows["show"]["left_to_earn"] == 1
    assert rows["chatter"]["title"] == {"en": "Quest chatter", "ru": "Задание chatter"}
    # somebody never seen gets the list too, with nothing done
    fresh = conn.execute("SELECT progress, completed, left_to_earn FROM xp.quest_list('discord', 'new')").fetchall()
    assert {(r["progress"], r["completed"], r["left_to_earn"]) for r in fresh} == {(0, 0, 1), (0, 0, 2)}
    assert scalar(conn, "SELECT count(*) FROM xp.accounts WHERE external_id = 'new'") == 0


# --- submissions -----------------------------------------------------------------------------------


def test_a_submission_waits_and_an_approval_pays_once(conn):
    quest(conn, "show", "submission", period="once")
    first = submit(conn, "t1", "show")
    assert first["applied"] is True and first["status"] == "pending"
    again = submit(conn, "t1", "show", proof="another")
    assert again == {**first, "applied": False}  # a double submission is the same one
    assert quest_rows(conn) == []
    done = review(conn, first["submission_id"], True, "nice")
    assert done["paid"] is True and done["status"] == "approved"
    assert [(r["kind"], r["delta"]) for r in quest_rows(conn)] == [("xp", 50), ("coins", 10)]
    state, message_ = refusal(conn, "SELECT xp.review_submission(%s, false, 'no')", first["submission_id"])
    assert state == "XP009" and "approved already" in message_
    state, _ = refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'show', 'again')")
    assert state == "XP009"  # once ever, done
    audit = conn.execute("SELECT actor, action, target FROM xp.admin_audit WHERE action LIKE 'quest.%'").fetchall()
    assert [a["action"] for a in audit] == ["quest.approve"] and audit[0]["target"] == str(first["submission_id"])
    assert_consistent(conn)


def test_the_member_hears_of_a_review_on_the_platform_they_submitted_from(conn):
    quest(conn, "show", "submission")
    call(conn, "award_xp", "telegram", "t1", 1, "r", "k1")
    link(conn)  # t1 and d1 are one person
    sub = submit(conn, "d1", "show", platform="discord")
    review(conn, sub["submission_id"], False, "blurry")
    deliveries = conn.execute("SELECT d.target, e.payload FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
                              "WHERE e.kind = 'quest_reviewed'").fetchall()
    assert [d["target"] for d in deliveries] == ["discord"]
    assert deliveries[0]["payload"]["status"] == "declined" and deliveries[0]["payload"]["note"] == "blurry"
    assert quest_rows(conn) == []
    # declined: the member may submit again
    assert submit(conn, "d1", "show", platform="discord")["applied"] is True


def test_submissions_refuse_what_cannot_be(conn):
    quest(conn, "chatter", "messages")
    quest(conn, "later", "submission", starts_at="2999-01-01T00:00:00Z")
    assert refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'nope', 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'chatter', 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'later', 'x')")[0] == "XP009"
    quest(conn, "show", "submission")
    assert refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'show', '')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.submit_quest('telegram', 't1', 'show', %s)", "x" * 1001)[0] == "XP002"
    assert refusal(conn, "SELECT xp.submit_quest('mastodon', 't1', 'show', 'x')")[0] == "XP002"
    assert refusal(conn, "SELECT xp.review_submission(424242, true)")[0] == "XP002"
    sub = submit(conn, "t1", "show")
    assert refusal(conn, "SELECT xp.review_submission(%s, NULL)", sub["submission_id"])[0] == "XP002"
    assert refusal(conn, "SELECT xp.review_submission(%s, true, %s)", sub["submission_id"], "n" * 501)[0] == "XP002"
    assert scalar(conn, "SELECT status FROM xp.quest_submissions WHERE id = %s", sub["submission_id"]) == "pending"
    assert refusal(conn, "SELECT xp.admin_submissions('maybe')")[0] == "XP002"


def test_operators_cannot_define_a_quest_that_makes_no_sense(conn):
    bad = [
        {"title": json.dumps({"ru": "только"})},  # no English
        {"title": json.dumps({"en": "x", "de": "y"})},  # a language we do not speak
        {"reward_xp": 0, "reward_coins": 0},
        {"per_person": 0},
        {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
    ]
    for n, columns in enumerate(bad):
        with pytest.raises(psycopg.errors.CheckViolation):
            quest(conn, f"bad{n}", "messages", **columns)
    with pytest.raises(psycopg.errors.CheckViolation):
        quest(conn, "likes", "likes")
    assert scalar(conn, "SELECT count(*) FROM xp.quests") == 0


# --- families: links, unlinks, merges ------------------------------------------------------------------


def test_an_unlinked_account_cannot_earn_a_quest_its_family_was_paid(conn):
    quest(conn, "show", "submission", period="once")
    quest(conn, "chatter", "messages", target=2, period="once")
    call(conn, "award_xp", "telegram", "t1", 1, "r", "k1")
    link(conn)
    review(conn, submit(conn, "d1", "show", platform="discord")["submission_id"])
    for n in range(2):
        call(conn, "record_message", "discord", "d1", "c", f"d{n}", 10)
    assert len(quest_rows(conn)) == 4
    scalar(conn, "SELECT xp.unlink('discord', 'd1')")
    state, _ = refusal(conn, "SELECT xp.submit_quest('discord', 'd1', 'show', 'again')")
    assert state == "XP009"
    for n in range(2, 4):
        call(conn, "record_message", "discord", "d1", "c", f"d{n}", 10)  # the counter again, as the new person
    assert len(quest_rows(conn)) == 4
    assert scalar(conn, "SELECT count(*) FROM xp.quest_completions WHERE NOT paid") == 1
    link(conn)
    assert len(quest_rows(conn)) == 4
    assert_consistent(conn)


def test_a_merge_adds_progress_up_and_keeps_one_waiting_submission(conn):
    quest(conn, "chatter", "messages", target=4, period="once", coins=0)
    quest(conn, "show", "submission", period="once")
    for n in range(2):
        message(conn, "t1", n)
        call(conn, "record_message", "discord", "d1", "c", f"d{n}", 10)
    a = submit(conn, "t1", "show")
    b = submit(conn, "d1", "show", platform="discord")
    assert quest_rows(conn) == []
    link(conn)  # 2 + 2 messages: the merged person has done it
    assert [r["delta"] for r in quest_rows(conn)] == [50]
    statuses = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM xp.quest_submissions")}
    assert sorted(statuses.values()) == ["declined", "pending"]
    pending = next(i for i, s in statuses.items() if s == "pending")
    assert pending in (a["submission_id"], b["submission_id"])
    review(conn, pending)
    assert len(quest_rows(conn)) == 3
    assert_consistent(conn)


# --- concurrency ---------------------------------------------------------------------------------------


def test_concurrent_approvals_of_one_submission_pay_once(conn, connect):
    quest(conn, "show", "submission")
    sub = submit(conn, "t1", "show")["submission_id"]
    conns = [connect() for _ in range(8)]

    def approve(c):
        try:
            return scalar(c, "SELECT xp.review_submission(%s, true, 'ok')", sub)["paid"]
        except psycopg.Error as exc:
            return exc.sqlstate

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(approve, conns))
    assert results.count(True) == 1 and results.count("XP009") == 7
    assert len(quest_rows(conn)) == 2


def test_concurrent_approvals_for_one_family_pay_its_window_once(conn, connect):
    """Two persons of one family (an unlinked account) each submitted before either was paid:
    approving both at once pays the family once."""
    quest(conn, "show", "submission", period="once")
    call(conn, "award_xp", "telegram", "t1", 1, "r", "k1")
    link(conn)
    scalar(conn, "SELECT xp.unlink('discord', 'd1')")
    subs = [submit(conn, "t1", "show")["submission_id"],
            submit(conn, "d1", "show", platform="discord")["submission_id"]]
    conns = [connect(), connect()]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s, c: scalar(c, "SELECT xp.review_submission(%s, true)", s)["paid"],
                                subs, conns))
    assert sorted(results) == [False, True]
    assert len(quest_rows(conn)) == 2
    assert_consistent(conn)


def test_concurrent_messages_of_one_person_complete_a_quest_once(conn, connect):
    quest(conn, "chatter", "messages", target=5, period="day", coins=0)
    conns = [connect() for _ in range(8)]

    def talk(client, c):
        for n in range(5):
            call(c, "record_message", "telegram", "t1", "chat", f"{client}-{n}", 10)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(talk, range(8), conns))
    assert len(quest_rows(conn)) == 1
    # counted up to the completion, then no more (nothing left to earn in the window)
    assert scalar(conn, "SELECT value FROM xp.quest_progress") == 5
    assert_consistent(conn)


def test_forgetting_a_person_drops_what_they_wrote(conn):
    quest(conn, "show", "submission")
    review(conn, submit(conn, "t1", "show", proof="my phone is 555")["submission_id"])
    uid = scalar(conn, "SELECT id FROM xp.users")
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    assert scalar(conn, "SELECT count(*) FROM xp.quest_submissions") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.quest_completions") == 1
