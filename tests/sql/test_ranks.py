"""Ranks derived from XP inside the database; rewards paid once per person, ever."""

from __future__ import annotations

import pytest

from tests.helpers import balances_match_ledger, call, scalar


def mee6_total(level: int) -> int:
    return 5 * level * (2 * level * level + 27 * level + 91) // 6


def test_twenty_ranks_follow_the_mee6_curve(conn):
    ranks = conn.execute("SELECT id, name, tier, stars, min_xp, reward_coins FROM xp.ranks ORDER BY id").fetchall()
    assert len(ranks) == 20
    assert [r["min_xp"] for r in ranks] == [mee6_total(2 * (n - 1)) for n in range(1, 21)]
    assert [r["min_xp"] for r in ranks][:5] == [0, 255, 770, 1625, 2900]
    assert ranks[-1]["min_xp"] == 126825
    assert [r["name"] for r in ranks[:4]] == ["F I", "F II", "F III", "E I"]
    assert [r["name"] for r in ranks[-3:]] == ["A III", "S I", "S II"]
    assert [r["reward_coins"] for r in ranks] == [50 * (n - 1) for n in range(1, 21)]


@pytest.mark.parametrize("rank", range(2, 21))
def test_rank_changes_exactly_at_its_threshold(conn, rank):
    threshold = mee6_total(2 * (rank - 1))
    below = call(conn, "award_xp", "discord", "p", threshold - 1, "r", "below")
    assert below["new_rank"] == rank - 1
    at = call(conn, "award_xp", "discord", "p", 1, "r", "at")
    assert (at["old_rank"], at["new_rank"], at["rank_changed"]) == (rank - 1, rank, True)
    assert at["reward_coins"] == 50 * (rank - 1)


def test_a_jump_over_several_ranks_pays_each_reward_once(conn):
    row = call(conn, "award_xp", "telegram", "1", 2900, "big", "k1")
    assert (row["old_rank"], row["new_rank"]) == (1, 5)
    assert row["reward_coins"] == 50 + 100 + 150 + 200
    assert row["coins"] == 500
    reasons = [r["reason"] for r in conn.execute("SELECT reason FROM xp.ledger WHERE kind = 'coins' ORDER BY id")]
    assert reasons == ["rank reward: F II", "rank reward: F III", "rank reward: E I", "rank reward: E II"]


def test_demotion_and_repromotion_never_pay_twice(conn):
    up = call(conn, "award_xp", "telegram", "1", 300, "r", "k1")
    assert (up["new_rank"], up["reward_coins"]) == (2, 50)
    down = call(conn, "award_xp", "telegram", "1", -200, "penalty", "k2")
    assert (down["old_rank"], down["new_rank"], down["rank_changed"], down["reward_coins"]) == (2, 1, True, 0)
    again = call(conn, "award_xp", "telegram", "1", 200, "r", "k3")
    assert (again["new_rank"], again["rank_changed"], again["reward_coins"]) == (2, True, 0)
    assert again["coins"] == 50
    kinds = [e["payload"] for e in conn.execute("SELECT payload FROM xp.events ORDER BY id")]
    assert [(p["old_rank"], p["new_rank"]) for p in kinds] == [(1, 2), (2, 1), (1, 2)]
    assert balances_match_ledger(conn) == []


def test_top_rank_has_no_ceiling(conn):
    row = call(conn, "award_xp", "discord", "1", 200000, "r", "k1")
    assert row["new_rank"] == 20
    more = call(conn, "award_xp", "discord", "1", 1000, "r", "k2")
    assert (more["new_rank"], more["rank_changed"]) == (20, False)
    assert scalar(conn, "SELECT rank_ceil FROM xp.users") is None


def test_only_rank_changes_write_events(conn):
    call(conn, "award_xp", "discord", "1", 100, "r", "k1")
    call(conn, "award_xp", "discord", "1", 100, "r", "k2")
    assert scalar(conn, "SELECT count(*) FROM xp.events") == 0
    call(conn, "award_xp", "discord", "1", 100, "r", "k3")
    events = conn.execute("SELECT kind, payload FROM xp.events").fetchall()
    assert events == [{"kind": "rank_changed", "payload": {
        "old_rank": 1, "new_rank": 2, "xp": 300, "name": "F II", "emoji": "🌱", "tier": "F",
    }}]
    targets = [d["target"] for d in conn.execute("SELECT target FROM xp.deliveries")]
    assert targets == ["discord"]


def test_award_notifies_only_when_a_platform_must_act(conn, connect):
    listener = connect()
    listener.execute("LISTEN xp_discord")
    listener.execute("LISTEN xp_telegram")
    for i in range(5):
        call(conn, "award_xp", "discord", "1", 10, "r", f"small{i}")
    assert list(listener.notifies(timeout=0.5)) == []
    call(conn, "award_xp", "discord", "1", 300, "r", "big")
    notes = list(listener.notifies(timeout=2, stop_after=1))
    assert [(n.channel, n.payload) for n in notes] == [("xp_discord", "")]


def test_telegram_deliveries_respect_the_notice_opt_out(conn):
    call(conn, "award_xp", "telegram", "1", 10, "r", "k1")
    conn.execute("UPDATE xp.users SET notify = false")
    call(conn, "award_xp", "telegram", "1", 300, "r", "k2")
    assert scalar(conn, "SELECT count(*) FROM xp.events") == 1
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries") == 0
