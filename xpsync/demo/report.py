"""The demo's closing checks and summary: what happened, how fast, and whether anything drifted."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from ..console import out, table
from ..db import fetch_value
from ..listener.telegram_notices import NOT_TOLD
from ..sandbox import Sandbox
from ..vocabulary import TARGETS

# every Telegram rank-up of the demo, with where it went and why not, and where the person could be told now
RANK_UPS = """
SELECT d.status, d.sent_ref, d.last_error, r.chat_id, r.opened, r.group_chat
  FROM xp.deliveries d
  JOIN xp.events e ON e.id = d.event_id
  LEFT JOIN LATERAL xp.telegram_recipient(d.user_id) r ON true
 WHERE d.id > %s AND d.target = 'telegram' AND e.kind = 'rank_changed'
   AND (e.payload ->> 'new_rank')::int > (e.payload ->> 'old_rank')::int
"""


@dataclass
class Checks:
    drift: list[tuple[Any, ...]] = field(default_factory=list)  # reconcile_all findings
    role_mismatches: list[str] = field(default_factory=list)  # Discord roles that disagree with the database
    told: int = 0  # Telegram rank-ups whose message reached the person's private chat
    told_in_group: int = 0  # … their announcing group
    not_told: int = 0  # … nobody: never opened a chat with the bot, and no announcing group
    unsent: int = 0  # rank-ups owed a Telegram message that has none, and no reason why
    misreported: list[str] = field(default_factory=list)  # "not told" though the bot could have told them

    @property
    def ok(self) -> bool:
        return not (self.drift or self.role_mismatches or self.unsent or self.misreported)


async def check(pool: AsyncConnectionPool, sandbox: Sandbox, after_delivery: int = 0) -> Checks:
    """The closing checks, for what the demo itself delivered (deliveries after `after_delivery`)."""
    result = Checks()
    async with pool.connection() as conn:
        result.drift = await (await conn.execute("SELECT * FROM xp.reconcile_all()")).fetchall()
        plans = await (await conn.execute(
            "SELECT p.guild_id, p.member_id, p.desired, p.managed "
            "FROM xp.accounts a, xp.discord_role_plan(a.user_id) p WHERE a.platform = 'discord'")).fetchall()
        rank_ups = await (await conn.execute(RANK_UPS, (after_delivery,))).fetchall()
    for guild_id, member_id, desired, managed in plans:
        with sandbox.discord.lock:
            in_guild = member_id in sandbox.discord.members.get(guild_id, {})
        held = sandbox.discord.roles_of(guild_id, member_id) & set(managed)
        if in_guild and held != set(desired):
            result.role_mismatches.append(f"{member_id} in {guild_id}: holds {sorted(held)}, "
                                          f"should hold {sorted(desired)}")
    sent = {(m.chat_id, str(m.message_id)) for m in sandbox.telegram.messages}
    for status, ref, note, chat_id, opened, group in rank_ups:
        if status == "done" and ref is not None and (chat_id, ref) in sent:
            result.told += 1
        elif status == "done" and ref is not None and (group, ref) in sent:
            result.told_in_group += 1
        elif status == "done" and ref is None and note == NOT_TOLD:
            result.not_told += 1
            if opened or group is not None or chat_id in sandbox.telegram.opened:
                result.misreported.append(f"{chat_id}: reported not told, but could be told")
        else:
            result.unsent += 1
    return result


def percentile_ms(seconds: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of durations in seconds, in milliseconds; needs at least one value."""
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] * 1000


def percentile(values: list[float], q: float) -> str:
    return f"{percentile_ms(values, q):.1f} ms" if values else "n/a"


@dataclass
class Figures:
    members: int
    seconds: float
    calls: Counter[str]
    applied: int
    events: dict[str, int]
    deliveries: dict[tuple[str, str], int]
    retried_to_done: int
    latencies: dict[str, list[float]]
    role_changes: Counter[str]
    messages: int
    direct_messages: int  # Discord: reviews of what members did there, quests of members without Telegram
    faults: Counter[tuple[str, str]]
    limited: Counter[str] = field(default_factory=Counter)  # 429s the platforms' limits gave (not injected)


async def gather(pool: AsyncConnectionPool) -> tuple[dict[str, int], dict[tuple[str, str], int], int]:
    async with pool.connection() as conn:
        events: dict[str, int] = dict(await (await conn.execute(
            "SELECT kind, count(*) FROM xp.events GROUP BY 1 ORDER BY 1")).fetchall())
        rows = await (await conn.execute("SELECT target, status, count(*) FROM xp.deliveries GROUP BY 1, 2")).fetchall()
        retried = await fetch_value(conn, "SELECT count(*) FROM xp.deliveries WHERE status = 'done' AND attempts > 1")
    return events, {(t, s): n for t, s, n in rows}, retried


def show(figures: Figures, checks: Checks) -> None:
    calls = sum(n for k, n in figures.calls.items() if not k.startswith("refused") and k != "merged")
    lines = [
        ("members", f"{figures.members} ({figures.calls['merged']} linked during the run, merging progress)"),
        ("SQL calls", f"{calls} in {figures.seconds:.1f} s = {calls / figures.seconds:.0f}/s "
                      f"({figures.applied / figures.seconds:.0f} applied/s)"),
        ("calls by kind", ", ".join(f"{k} {n}" for k, n in sorted(figures.calls.items()))),
        ("events", ", ".join(f"{k} {n}" for k, n in figures.events.items())),
    ]
    for target in TARGETS:
        statuses = {s: figures.deliveries.get((target, s), 0) for s in ("done", "failed", "dead", "pending")}
        lines.append((f"{target} deliveries", ", ".join(f"{s} {n}" for s, n in statuses.items())))
        lat = figures.latencies.get(target, [])
        lines.append((f"{target} commit→call", f"p50 {percentile(lat, 0.5)}, p99 {percentile(lat, 0.99)} "
                                             f"({len(lat)} first attempts"
                                             + (f", mean {statistics.fmean(lat) * 1000:.1f} ms)" if lat else ")")))
    lines += [
        ("Discord role changes", f"{figures.role_changes['add']} added, {figures.role_changes['remove']} removed"),
        ("Telegram messages", str(figures.messages)),
        ("Discord direct messages", f"{figures.direct_messages} (reviews of what members did on Discord, quests "
                                    "completed by members without Telegram)"),
        ("faults injected", ", ".join(f"{p} {k} {n}" for (p, k), n in sorted(figures.faults.items())) or "none"),
        ("429s of the limits", ", ".join(f"{p} {n}" for p, n in sorted(figures.limited.items())) or "none"),
        ("retried to success", str(figures.retried_to_done)),
        ("reconcile_all", "no drift" if not checks.drift else f"{len(checks.drift)} finding(s)"),
        ("Discord vs database", "every managed role as the database says" if not checks.role_mismatches
         else f"{len(checks.role_mismatches)} member(s) differ"),
        ("Telegram rank-ups", f"{checks.told} told privately, {checks.told_in_group} in their group, "
                              f"{checks.not_told} not told ({NOT_TOLD.removeprefix('not told: ')})"
                              + (f", {checks.unsent} owed a message and unsent" if checks.unsent else "")),
    ]
    table("xpsync demo", ["", ""], lines, header=False)
    for finding in checks.drift[:10]:
        out.print(f"drift: {finding}")
    for mismatch in checks.role_mismatches[:10]:
        out.print(f"role mismatch: {mismatch}")
    for wrong in checks.misreported[:10]:
        out.print(f"misreported: {wrong}")
