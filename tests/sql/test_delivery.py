"""The delivery protocol of design.md §6 at the SQL level: leases, SKIP LOCKED, acks, retries."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from tests.helpers import call, scalar


def rank_ups(conn, n: int, platform: str = "discord") -> None:
    for i in range(n):
        call(conn, "award_xp", platform, f"p{i}", 300, "r", f"k{i}")


def claim(conn, owner="a", batch=100, lease=30, target="discord"):
    return conn.execute("SELECT * FROM xp.claim_deliveries(%s, %s, %s, %s)", (target, owner, batch, lease)).fetchall()


def delivery(conn, delivery_id):
    return conn.execute("SELECT *, run_at - now() AS wait FROM xp.deliveries WHERE id = %s", (delivery_id,)).fetchone()


def fail(conn, d, owner="a", error="boom", permanent=False, retry_after=None, mute=False):
    return scalar(conn, "SELECT xp.fail_delivery(%s, %s, %s, %s, %s, %s, %s)",
                  d["id"], owner, d["attempts"], error, permanent, retry_after, mute)


def test_a_claim_leases_counts_an_attempt_and_hides_the_row(conn):
    rank_ups(conn, 3)
    rows = claim(conn, batch=2)
    assert [r["attempts"] for r in rows] == [1, 1]
    assert {r["kind"] for r in rows} == {"rank_changed"}
    lease = delivery(conn, rows[0]["id"])
    assert lease["lease_owner"] == "a" and timedelta(seconds=29) < lease["wait"] <= timedelta(seconds=30)
    assert len(claim(conn, owner="b")) == 1  # only the unclaimed third
    assert claim(conn, owner="b") == []


def test_an_expired_lease_is_claimed_again(conn):
    rank_ups(conn, 1)
    first = claim(conn, owner="a")[0]
    conn.execute("UPDATE xp.deliveries SET run_at = now() - interval '1 second'")
    again = claim(conn, owner="b")[0]
    assert (again["id"], again["attempts"]) == (first["id"], 2)
    # the first owner lost its claim: its ack and its failure are refused
    assert scalar(conn, "SELECT xp.ack_deliveries('a', %s, %s)", [first["id"]], [1]) == 0
    assert fail(conn, first, owner="a") is None
    assert scalar(conn, "SELECT xp.ack_deliveries('b', %s, %s)", [again["id"]], [2]) == 1
    assert delivery(conn, first["id"])["status"] == "done"


def test_claims_skip_rows_locked_by_another_claimer(conn, connect):
    rank_ups(conn, 10)
    other = connect()
    with other.transaction():
        held = claim(other, owner="slow", batch=4)
        mine = claim(conn, owner="fast")  # not blocked by the open transaction
    assert len(held) == 4 and len(mine) == 6
    assert not {r["id"] for r in held} & {r["id"] for r in mine}


def test_ack_stores_the_platform_reference(conn):
    rank_ups(conn, 1, platform="telegram")
    d = claim(conn, target="telegram")[0]
    assert scalar(conn, "SELECT xp.ack_deliveries('a', %s, %s, %s)", [d["id"]], [1], ["m-42"]) == 1
    row = delivery(conn, d["id"])
    assert (row["status"], row["sent_ref"], row["lease_owner"]) == ("done", "m-42", None)
    assert row["finished_at"] is not None


def test_transient_failures_back_off_exponentially_with_jitter_up_to_the_cap(conn):
    rank_ups(conn, 1)
    waits = []
    for attempt in range(1, 10):
        conn.execute("UPDATE xp.deliveries SET run_at = now()")
        d = claim(conn)[0]
        assert d["attempts"] == attempt
        assert fail(conn, d) == "pending"
        waits.append(delivery(conn, d["id"])["wait"].total_seconds())
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(300, 2 ** (attempt - 1))
        assert ceiling / 2 - 0.01 <= wait <= ceiling + 0.01, (attempt, wait)
    assert delivery(conn, d["id"])["last_error"] == "boom"


def test_the_tenth_failure_is_dead(conn):
    rank_ups(conn, 1)
    conn.execute("UPDATE xp.deliveries SET attempts = 9")
    d = claim(conn)[0]
    assert d["attempts"] == 10
    assert fail(conn, d, error="still down") == "dead"
    assert claim(conn) == []


def test_a_429_waits_retry_after_and_does_not_count(conn):
    rank_ups(conn, 1)
    d = claim(conn)[0]
    assert fail(conn, d, error="429", retry_after=7.5) == "pending"
    row = delivery(conn, d["id"])
    assert row["attempts"] == 0
    assert timedelta(seconds=7.4) < row["wait"] <= timedelta(seconds=7.5)


@pytest.mark.parametrize("retry_after", [-1.0, float("nan"), float("inf"), 86401.0])
def test_a_nonsense_retry_after_is_xp002_and_keeps_the_claim(conn, retry_after):
    rank_ups(conn, 1)
    d = claim(conn)[0]
    with pytest.raises(psycopg.Error) as err:
        fail(conn, d, retry_after=retry_after)
    assert err.value.sqlstate == "XP002"
    assert fail(conn, d, retry_after=5) == "pending"


@pytest.mark.parametrize("flags", [{"permanent": None}, {"mute": None}])
def test_a_null_flag_is_xp002_and_keeps_the_claim(conn, flags):
    rank_ups(conn, 1)
    d = claim(conn)[0]
    with pytest.raises(psycopg.Error) as err:
        fail(conn, d, **flags)
    assert err.value.sqlstate == "XP002"
    assert fail(conn, d) == "pending"


def test_permanent_failures_keep_their_reason_and_may_mute_the_person(conn):
    rank_ups(conn, 1, platform="telegram")
    d = claim(conn, target="telegram")[0]
    assert fail(conn, d, error="telegram 403: blocked", permanent=True, mute=True) == "failed"
    row = delivery(conn, d["id"])
    assert (row["status"], row["last_error"]) == ("failed", "telegram 403: blocked")
    assert scalar(conn, "SELECT notify FROM xp.users") is False


def test_released_claims_are_due_at_once_and_uncounted(conn):
    rank_ups(conn, 2)
    rows = claim(conn)
    assert scalar(conn, "SELECT xp.release_deliveries('a', %s)", [r["id"] for r in rows]) == 2
    again = claim(conn, owner="b")
    assert [r["attempts"] for r in again] == [1, 1]


def test_claim_rejects_bad_arguments(conn):
    for args in (("discord", "a", 0, 30), ("discord", "a", 10, 0), ("discord", "", 10, 30)):
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT * FROM xp.claim_deliveries(%s, %s, %s, %s)", args)
        assert err.value.sqlstate == "XP002"


# --- what the Discord handler reads ---------------------------------------------------------------


def plan(conn, external_id="p"):
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = 'discord' AND external_id = %s", external_id)
    return conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchall()


@pytest.mark.parametrize(("mode", "xp", "desired"), [
    ("replace", 100, []), ("replace", 300, ["r2"]), ("replace", 1000, ["r3"]), ("replace", 3000, ["r5"]),
    ("stack", 100, []), ("stack", 1000, ["r2", "r3"]), ("stack", 3000, ["r2", "r3", "r5"]),
])
def test_role_plan_follows_the_guild_role_mode(conn, mode, xp, desired):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2'), ('g1', 3, 'r3'), ('g1', 5, 'r5')")
    conn.execute("INSERT INTO xp.guild_settings VALUES ('g1', %s)", (mode,))
    call(conn, "award_xp", "discord", "p", xp, "r", "k")
    assert plan(conn) == [{"guild_id": "g1", "member_id": "p", "desired": desired, "managed": ["r2", "r3", "r5"]}]


def test_role_plan_covers_every_guild_and_defaults_to_replace(conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'a2'), ('g2', 2, 'b2'), ('g2', 3, 'b3')")
    call(conn, "award_xp", "discord", "p", 1000, "r", "k")
    assert [(p["guild_id"], p["desired"]) for p in plan(conn)] == [("g1", ["a2"]), ("g2", ["b3"])]


def test_role_plan_is_empty_without_a_discord_account(conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2')")
    uid = call(conn, "award_xp", "telegram", "t", 300, "r", "k")["user_id"]
    assert conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchall() == []


# --- resync requests -----------------------------------------------------------------------------


def test_a_resync_request_is_coalesced_while_one_waits(conn):
    call(conn, "award_xp", "discord", "p", 10, "r", "k")
    assert scalar(conn, "SELECT xp.request_resync('discord', 'p')") == 1
    assert scalar(conn, "SELECT xp.request_resync('discord', 'p')") == 0
    claim(conn)
    assert scalar(conn, "SELECT xp.request_resync('discord', 'p')") == 1  # the claimed one may be stale
    assert scalar(conn, "SELECT xp.request_resync('discord', 'never-seen')") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'roles_resync'") == 2


def test_resync_roles_queues_everyone_with_a_discord_account(conn):
    for i in range(3):
        call(conn, "award_xp", "discord", f"d{i}", 10, "r", f"d{i}")
    call(conn, "award_xp", "telegram", "t", 10, "r", "t")
    assert scalar(conn, "SELECT xp.resync_roles()") == 3
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = 'd0'")
    conn.execute("UPDATE xp.deliveries SET status = 'done'")
    assert scalar(conn, "SELECT xp.resync_roles(%s)", uid) == 1
