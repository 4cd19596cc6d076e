"""Pacing shared by every listener instance (xp.reserve_slot, xp.pause_pace): slots under several limits
at once, never within the gap of the one before, never past the caller's bound, paused by a 429."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from tests.helpers import scalar
from tests.sql.test_identity import raises


def reserve(conn, keys, gaps, within=30.0) -> tuple[float, bool]:
    row = conn.execute("SELECT * FROM xp.reserve_slot(%s, %s, %s)", (keys, gaps, within)).fetchone()
    return row["wait"], row["reserved"]


def test_slots_under_one_limit_are_a_gap_apart(conn):
    waits = [reserve(conn, ["telegram:1"], [0.5])[0] for _ in range(3)]
    assert waits[0] == 0
    assert waits[1] == pytest.approx(0.5, abs=0.05) and waits[2] == pytest.approx(1.0, abs=0.05)


def test_a_call_waits_for_the_slowest_of_its_limits(conn):
    reserve(conn, ["telegram", "telegram:1"], [0.04, 1.0])
    wait, _ = reserve(conn, ["telegram", "telegram:2"], [0.04, 1.0])  # another chat: only the overall gap
    assert wait == pytest.approx(0.04, abs=0.02)
    wait, _ = reserve(conn, ["telegram", "telegram:1"], [0.04, 1.0])  # the same chat: its own second
    assert wait == pytest.approx(1.0, abs=0.05)


def test_a_slot_beyond_the_bound_is_not_taken(conn):
    reserve(conn, ["telegram:1"], [10.0])
    wait, reserved = reserve(conn, ["telegram:1"], [10.0], within=3)
    assert not reserved and wait == pytest.approx(10, abs=0.1)
    wait, reserved = reserve(conn, ["telegram:1"], [10.0], within=3)  # nothing was taken by the refusal
    assert not reserved and wait == pytest.approx(10, abs=0.1)


def test_a_pause_holds_every_limit_it_names(conn):
    conn.execute("SELECT xp.pause_pace(ARRAY['discord'], 64.57)")
    wait, reserved = reserve(conn, ["discord", "discord:1:roles"], [0.02, 1.0], within=5)
    assert not reserved and wait == pytest.approx(64.57, abs=0.2)
    conn.execute("SELECT xp.pause_pace(ARRAY['discord'], 1)")  # a shorter pause never shortens a longer one
    assert reserve(conn, ["discord"], [0.02], within=100)[0] == pytest.approx(64.57, abs=0.2)


def test_concurrent_reservations_never_share_a_slot(connect):
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        c = connect()
        for _ in range(10):  # slots a second apart, all in the future: when each one is differs by a second
            row = c.execute("SELECT wait FROM xp.reserve_slot(ARRAY['telegram', 'telegram:9'], ARRAY[0.0, 1.0], 60)"
                            ).fetchone()
            with lock:
                slots.append(time.time() + float(row["wait"]))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ordered = sorted(slots)
    assert len(ordered) == 40
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= 0.9


@pytest.mark.parametrize(("call", "args"), [
    ("SELECT * FROM xp.reserve_slot(%s, %s, %s)", (["a"], [1.0, 2.0], 1.0)),
    ("SELECT * FROM xp.reserve_slot(%s, %s, %s)", ([], [], 1.0)),
    ("SELECT * FROM xp.reserve_slot(%s, %s, %s)", (["a"], [float("nan")], 1.0)),
    ("SELECT * FROM xp.reserve_slot(%s, %s, %s)", (["a"], [1.0], -1.0)),
    ("SELECT * FROM xp.reserve_slot(%s, %s, %s)", (["x" * 201], [1.0], 1.0)),
    ("SELECT xp.pause_pace(%s, %s)", (["a"], 100_000.0)),
    ("SELECT xp.pause_pace(%s, %s)", ([None], 1.0)),
])
def test_bad_arguments_are_xp002_and_write_nothing(conn, call, args):
    raises("XP002", conn, call, *args)
    assert scalar(conn, "SELECT count(*) FROM xp.pace") == 0


def test_cleanup_removes_slots_long_past(conn):
    reserve(conn, ["telegram:1"], [1.0])
    conn.execute("UPDATE xp.pace SET next_at = now() - interval '40 days'")
    conn.execute("SELECT xp.cleanup('30 days')")
    assert scalar(conn, "SELECT count(*) FROM xp.pace") == 0


def test_a_burst_goes_at_once_then_the_gap_holds(conn):
    waits = [reserve_burst(conn, ["telegram:-100"], [3.0], [3])[0] for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(3.0, abs=0.1) and waits[4] == pytest.approx(6.0, abs=0.1)


def reserve_burst(conn, keys, gaps, bursts, within=30.0) -> tuple[float, bool]:
    row = conn.execute("SELECT * FROM xp.reserve_slot(%s, %s, %s, %s)", (keys, gaps, within, bursts)).fetchone()
    return row["wait"], row["reserved"]


def test_a_pause_naming_a_key_twice_is_one_pause(conn):
    """Found by the fuzzer: each row's own clock made the same key two rows of one upsert (21000)."""
    conn.execute("SELECT xp.pause_pace(ARRAY['telegram', 'telegram'], 2)")
    assert scalar(conn, "SELECT count(*) FROM xp.pace WHERE key = 'telegram' AND paused_until > now()") == 1
