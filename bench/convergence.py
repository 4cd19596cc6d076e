"""A threshold change under Discord's real limits: how long until every moved person's roles are right,
against the least time those limits allow.

N members of one guild hold the rank-2 role; rank 3's threshold is lowered so that all of them move up.
The real `xpsync listen discord` process follows the change (xp.rerank_batch, then one delivery each)
against an in-process sandbox that enforces the realistic limits (xpsync.sandbox.limits: 50 requests a
second per bot, 5 member reads a second and 10 role edits per 10 s per guild), with the pacing an operator
gets by default (xp.settings). Each person needs one member read and two role edits (add rank 3, remove
rank 2, the guild's default role mode), so the least time is the largest of, for each limit, the calls it
governs divided by its rate: here the guild's role edits, 2 N seconds (55 hours for 100 000 people).
`--scale k` runs every limit and every pace k times faster (the same shape, k times sooner), for runs
that end while one waits; `--people` makes them smaller.

Reported: the converge time (the threshold change's commit to the last role edit) over that minimum
(target <= 1.1), the 429s the sandbox answered (no fault is injected, so each one is our pacing's: target
0), dead deliveries (target 0), and the role edits and member reads per person and guild (coalescing:
exactly 2 and 1).
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise

import psycopg

from xpsync.sandbox import Limits, Sandbox, SandboxThread, Window

GUILD = "100000000000000001"
R2, R3 = "200000000000000002", "200000000000000003"
FIRST_MEMBER = 300_000_000_000_000_000
PACE_SETTINGS = ("discord.requests_per_second", "discord.member_reads_per_second", "discord.role_edits_per_second")


@dataclass(frozen=True)
class Convergence:
    people: int
    seconds: float
    minimum: float
    binding: str
    reads: int
    edits: int
    too_many_requests: int
    dead: int
    failed: int
    most_edits: int  # the most role edits one person got (2: add one, remove one)
    most_reads: int
    first_edit: float  # seconds from the change's commit to the first role edit
    idle: float  # seconds the guild's role edits were not used: gaps between edits beyond the limit's own

    @property
    def ratio(self) -> float:
        return self.seconds / self.minimum


def scaled(limits: Limits, k: float) -> Limits:
    """The same limits, k times faster: each window k times shorter."""
    def faster(window: Window) -> Window:
        return Window(window.limit, window.seconds / k)

    assert limits.discord_global is not None
    return replace(limits, discord_global=faster(limits.discord_global),
                   discord_member_reads=faster(limits.discord_member_reads),
                   discord_role_edits=faster(limits.discord_role_edits))


def minimum_seconds(limits: Limits, people: int) -> tuple[float, str]:
    """The least time the limits allow for `people` moves in one guild (a read and two edits each):
    the largest of calls / rate over the limits, and which limit that is."""
    assert limits.discord_global is not None

    def rate(window: Window) -> float:
        return window.limit / window.seconds

    bounds = {"the bot's global limit": 3 * people / rate(limits.discord_global),
              "the guild's member reads": people / rate(limits.discord_member_reads),
              "the guild's role edits": 2 * people / rate(limits.discord_role_edits)}
    binding = max(bounds, key=lambda k: bounds[k])
    return bounds[binding], binding


def prepare(conn: psycopg.Connection, box: Sandbox, people: int, k: float) -> None:
    """`people` members of GUILD at rank 2 holding its role, nothing pending; the pace k times faster."""
    box.discord.add_guild(GUILD, [R2, R3])
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s), (%s, 3, %s)", (GUILD, R2, GUILD, R3))
    conn.execute("SELECT count(xp.award_xp('discord', g::text, 300, 'bench', 'rank-2-' || g)) "
                 "FROM generate_series(%s::bigint, %s::bigint) g", (FIRST_MEMBER, FIRST_MEMBER + people - 1))
    wrong = conn.execute("SELECT count(*) FROM xp.users WHERE rank_id <> 2").fetchone()
    assert wrong is not None and wrong[0] == 0, "every bench member starts at rank 2"
    for n in range(people):
        box.discord.add_member(GUILD, str(FIRST_MEMBER + n), [R2])
    conn.execute("DELETE FROM xp.deliveries")  # their rank-2 roles are already there
    conn.execute("UPDATE xp.users SET roles_rank = rank_id")
    if k != 1:
        conn.execute("UPDATE xp.settings SET value = to_jsonb((value #>> '{}')::float8 * %s) WHERE key = ANY (%s)",
                     (k, list(PACE_SETTINGS)))


def logged_in(box: Sandbox, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(c.path.endswith("/users/@me") for c in box.calls_to("discord", "GET")):
        if time.monotonic() > deadline:
            raise SystemExit("the listener did not log in to the sandbox")
        time.sleep(0.1)


def converged(conn: psycopg.Connection, box: Sandbox, people: int) -> bool:
    row = conn.execute("SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FROM xp.deliveries "
                       "WHERE target = 'discord'").fetchone()
    assert row is not None
    if row[0] or row[1] < people:
        return False
    with box.discord.lock:
        return all(roles == {R3} for roles in box.discord.members[GUILD].values())


def measure(url: str, conn: psycopg.Connection, start_listener: Callable[[dict[str, str]], subprocess.Popen],
            people: int, k: float = 1.0, timeout: float | None = None) -> Convergence:
    """Run one threshold change of `people` to convergence; `start_listener(env)` starts the listener
    process against the sandbox environment `env` and returns it."""
    limits = scaled(Limits(), k)
    minimum, binding = minimum_seconds(limits, people)
    with SandboxThread(Sandbox(limits=limits)) as box:
        prepare(conn, box, people, k)
        listener = start_listener(box.env())
        try:
            logged_in(box)
            time.sleep(1)  # its catch-up on start is over: nothing was pending
            started = time.time()
            conn.execute("UPDATE xp.ranks SET min_xp = (SELECT min(xp) FROM xp.users) WHERE id = 3")
            timeout = timeout or 3 * minimum + 60
            deadline = time.monotonic() + timeout
            while not converged(conn, box, people):
                if time.monotonic() > deadline:
                    raise SystemExit(f"no convergence of {people} people within {timeout:.0f}s")
                time.sleep(0.2)
        finally:
            listener.terminate()
            listener.wait(30)
        with box.discord.lock:
            changes = list(box.discord.role_changes)
        calls = box.calls_to("discord")
    statuses = dict(conn.execute("SELECT status, count(*) FROM xp.deliveries GROUP BY 1").fetchall())
    reads = Counter(c.path.split("/members/")[1] for c in calls if c.method == "GET" and "/members/" in c.path)
    edits = Counter(change.member_id for change in changes)
    times = sorted(change.at for change in changes)
    gap = limits.discord_role_edits.seconds / limits.discord_role_edits.limit
    return Convergence(
        people=people, seconds=max(change.at for change in changes) - started, minimum=minimum, binding=binding,
        reads=sum(reads.values()), edits=sum(edits.values()),
        too_many_requests=sum(1 for c in calls if c.status == 429), dead=statuses.get("dead", 0),
        failed=statuses.get("failed", 0), most_edits=max(edits.values()), most_reads=max(reads.values()),
        first_edit=times[0] - started, idle=sum(max(0.0, b - a - gap) for a, b in pairwise(times)))
