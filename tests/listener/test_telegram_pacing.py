"""Telegram pacing shared by every instance (design.md §7): one send per delivery however many
instances run, 25 a second overall and one a second per chat (20 a minute per group) together, a 429
pausing the pace, an ack per delivery as soon as its own send succeeded, and no claim held past its
lease; proxies' HTML errors and absurd retry_afters are transient, never a crash or a traceback."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from contextlib import AsyncExitStack

from tests.helpers import call, scalar
from tests.listener.conftest import (
    eventually,
    running,
    sandbox_with,
    settings,
    started,
    statuses,
    telegram_handler,
)
from xpsync.listener.runtime import Options
from xpsync.sandbox import Fault, Rate

SHORT_LEASE = Options(batch_size=10, lease_seconds=3, poll_seconds=0.1, concurrency=16)
REALISTIC_PACE = {"telegram__messages_per_second": 25, "telegram__chat_interval_seconds": 1}


def rank_ups_of_one_person(conn, chat: str, count: int) -> None:
    """`count` deliveries to one chat: one person climbing `count` ranks, one award each."""
    thresholds = [r["min_xp"] for r in conn.execute("SELECT min_xp FROM xp.ranks ORDER BY id")]
    for rank in range(1, count + 1):
        have = scalar(conn, "SELECT coalesce(max(u.xp), 0) FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id "
                            "WHERE a.external_id = %s", chat)
        call(conn, "award_xp", "telegram", chat, thresholds[rank] - have, "climb", f"climb-{chat}-{rank}")


async def test_several_instances_send_each_delivery_once_at_one_a_second_per_chat(conn, pool, db_url, sandbox):
    settings(conn, **REALISTIC_PACE)
    started(conn, sandbox, "100")
    rank_ups_of_one_person(conn, "100", 8)
    total = scalar(conn, "SELECT count(*) FROM xp.deliveries")
    async with AsyncExitStack() as stack:
        for owner in ("one", "two", "three"):
            await stack.enter_async_context(running(pool, db_url, await telegram_handler(sandbox, pool), SHORT_LEASE,
                                                    owner=owner))
        await eventually(lambda: statuses(conn) == {"done": total}, timeout=40)
    sent = sandbox.telegram.sent_to("100")
    assert len(sent) == total  # not one message twice (the lease outlived by pacing made 60 of 10)
    gaps = [b.at - a.at for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.9
    assert [c for c in sandbox.calls_to("telegram") if c.status == 429] == []


async def test_instances_together_stay_within_25_a_second(conn, pool, db_url, sandbox):
    settings(conn, **REALISTIC_PACE)
    people = [str(2000 + i) for i in range(150)]
    started(conn, sandbox, *people)
    for person in people:
        call(conn, "award_xp", "telegram", person, 300, "quiz", f"k{person}")
    small_batches = Options(batch_size=10, lease_seconds=5, poll_seconds=0.1, concurrency=16)
    async with AsyncExitStack() as stack:
        for owner in ("one", "two", "three"):
            await stack.enter_async_context(running(pool, db_url, await telegram_handler(sandbox, pool), small_batches,
                                                    owner=owner))
        await eventually(lambda: statuses(conn) == {"done": len(people)}, timeout=40)
    # Telegram's 30 a second, with its tolerance of short bursts, is the sandbox's: never a 429. The
    # shared pace is 25 a second across the three instances (each alone would make it 75); the arrivals
    # of one second can bunch a little beyond it when a loaded machine wakes senders late
    assert [c for c in sandbox.calls_to("telegram") if c.status == 429] == []
    sent = sorted(m.at for m in sandbox.telegram.messages)
    assert (len(sent) - 1) / (sent[-1] - sent[0]) <= 25.5
    assert Counter(m.chat_id for m in sandbox.telegram.messages) == Counter(people)


async def test_a_group_gets_at_most_its_share_a_minute(conn, pool, db_url):
    """20 a minute per group, scaled for the test to 120 a minute (one every half second)."""
    group = "-1001000000001"
    settings(conn, telegram__group_messages_per_minute=120, **REALISTIC_PACE)
    conn.execute("INSERT INTO xp.chat_settings (platform, chat_id, announce) VALUES ('telegram', %s, true)", (group,))
    people = [str(2000 + i) for i in range(6)]
    async with sandbox_with(telegram_group=Rate(120, 60.0, 2)) as box:
        for person in people:
            call(conn, "record_message", "telegram", person, group, f"m{person}", 40, "Ivan")
            call(conn, "award_xp", "telegram", person, 300, "quiz", f"k{person}")
        async with running(pool, db_url, await telegram_handler(box, pool)):
            await eventually(lambda: statuses(conn) == {"done": len(people)}, timeout=30)
        sent = box.telegram.sent_to(group)
        assert [c for c in box.calls_to("telegram") if c.status == 429] == []
    assert len(sent) == len(people)
    assert min(b.at - a.at for a, b in itertools.pairwise(sent)) >= 0.45


async def test_a_429_pauses_the_pace_for_its_retry_after(conn, pool, db_url, sandbox):
    settings(conn, **REALISTIC_PACE)
    people = [str(2000 + i) for i in range(30)]  # a second and more of sends at 25 a second
    started(conn, sandbox, *people)
    sandbox.faults.script("telegram", Fault("429", retry_after=2))
    for person in people:
        call(conn, "award_xp", "telegram", person, 300, "quiz", f"k{person}")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        await eventually(lambda: statuses(conn) == {"done": len(people)}, timeout=20)
    calls = sandbox.calls_to("telegram")
    refused = next(c for c in calls if c.status == 429)
    assert [c for c in calls if refused.at + 0.3 < c.at < refused.at + 1.9] == []
    assert scalar(conn, "SELECT max(attempts) FROM xp.deliveries") == 1  # the 429 was not counted


async def test_a_retry_after_above_a_day_crashes_nothing(conn, pool, db_url, sandbox):
    started(conn, sandbox, "100")
    sandbox.faults.script("telegram", Fault("429", retry_after=100_000))
    async with running(pool, db_url, await telegram_handler(sandbox, pool)) as listener:
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: scalar(conn, "SELECT last_error FROM xp.deliveries") is not None)
        row = conn.execute("SELECT status, attempts, extract(epoch FROM run_at - now()) AS due_in "
                           "FROM xp.deliveries").fetchone()
        assert (row["status"], row["attempts"]) == ("pending", 0) and 86_000 < row["due_in"] <= 86_400
        await asyncio.sleep(0.5)
    assert listener.stats["done"] == 0


async def test_an_html_502_from_a_proxy_is_retried_without_a_traceback(conn, pool, db_url, sandbox, fast_retries,
                                                                       caplog):
    started(conn, sandbox, "100")
    sandbox.faults.script("telegram", "5xx-html")
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        call(conn, "award_xp", "telegram", "100", 300, "quiz", "k1")
        await eventually(lambda: statuses(conn) == {"done": 1})
    assert len(sandbox.telegram.sent_to("100")) == 1
    assert scalar(conn, "SELECT attempts FROM xp.deliveries") == 2
    assert not [r for r in caplog.records if r.exc_info]


async def test_each_delivery_is_acked_as_soon_as_its_own_send_succeeded(conn, pool, db_url, sandbox):
    settings(conn, **REALISTIC_PACE)
    started(conn, sandbox, "100")
    rank_ups_of_one_person(conn, "100", 4)  # paced a second apart: the batch takes over three seconds
    first, total = conn.execute("SELECT min(id) AS first, count(*) AS total FROM xp.deliveries").fetchone().values()
    async with running(pool, db_url, await telegram_handler(sandbox, pool)):
        await eventually(lambda: len(sandbox.telegram.sent_to("100")) == 1)
        sent_at = time.monotonic()
        await eventually(lambda: scalar(conn, "SELECT status FROM xp.deliveries WHERE id = %s", first) == "done")
        assert time.monotonic() - sent_at < 0.9  # before the next send of its batch
        assert len(sandbox.telegram.sent_to("100")) == 1
        await eventually(lambda: statuses(conn) == {"done": total}, timeout=20)


async def test_pacing_never_holds_a_claim_past_its_lease(conn, pool, db_url, sandbox):
    """Seconds of sends for one chat, leases of three, two instances: whatever cannot be sent inside its
    lease goes back (uncounted) instead of being sent after the lease, when the other instance may have
    claimed it again."""
    settings(conn, **REALISTIC_PACE)
    started(conn, sandbox, "100")
    rank_ups_of_one_person(conn, "100", 7)
    total = scalar(conn, "SELECT count(*) FROM xp.deliveries")
    async with running(pool, db_url, await telegram_handler(sandbox, pool), SHORT_LEASE, owner="one") as one, \
            running(pool, db_url, await telegram_handler(sandbox, pool), SHORT_LEASE, owner="two") as two:
        await eventually(lambda: statuses(conn) == {"done": total}, timeout=40)
    assert len(sandbox.telegram.sent_to("100")) == total
    assert one.stats["lost_leases"] == two.stats["lost_leases"] == 0
    assert scalar(conn, "SELECT max(attempts) FROM xp.deliveries") == 1  # waiting for a slot is not an attempt
