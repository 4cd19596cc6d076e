"""Every SQL statement the listener runs, one function each (as bots/api.py is for the bots).

Claim, ack, fail and release follow the delivery protocol (docs/design.md,
"Delivery"); the lookups read what a handler needs for a whole claimed batch
in one query.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from xpsync.db import fetch_value

from .handler import Delivery

Connection = AsyncConnection[Any]


@dataclass(frozen=True)
class RolePlan:
    """One guild's roles for a person: what they should hold of the roles xpsync manages there, and
    whether the guild is paused (its refusals tripped the circuit breaker)."""

    guild_id: str
    member_id: str
    desired: frozenset[str]
    managed: frozenset[str]
    paused: bool = False


@dataclass
class PersonPlans:
    """A person's role plans as one claimed batch read them; deliveries of the person in that batch
    share one convergence (`converging`), since each would compute the same from the same plans."""

    plans: list[RolePlan]
    converging: asyncio.Future[Any] | None = None


@dataclass(frozen=True)
class Recipient:
    """Where and how a person is told on Telegram: their private chat when they opened it with the bot
    (/start), else their announcing group (None: nowhere), their name for the group, their language."""

    chat_id: str
    opened: bool
    group_chat: str | None
    name: str | None
    language: str
    notify: bool


@dataclass(frozen=True)
class DiscordRecipient:
    """Whom to write to on Discord (by direct message), in which language, whether they want notices,
    and whether they have a Telegram account (told there of what is not about Discord)."""

    member_id: str
    language: str
    notify: bool
    on_telegram: bool


async def listen(conn: Connection, channels: list[str]) -> None:
    """LISTEN on each channel (the doorbells: xp_<target>, xp_config), on an autocommit connection."""
    for channel in channels:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))


async def claim(conn: Connection, target: str, owner: str, batch_size: int, lease_seconds: int,
                lease_ends: float) -> list[Delivery]:
    """Claim a batch; `lease_ends` is when (event-loop time) the lease is over for this process."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM xp.claim_deliveries(%s, %s, %s, %s)", (target, owner, batch_size, lease_seconds))
    return [Delivery(**row, lease_ends=lease_ends) for row in await cur.fetchall()]


async def ack(conn: Connection, owner: str, done: list[tuple[Delivery, str | None, str | None]]) -> int:
    """Mark delivered what we still hold the lease of (with the platform's reference, or a note saying
    why nobody was told); return how many."""
    return int(await fetch_value(
        conn, "SELECT xp.ack_deliveries(%s, %s, %s, %s, %s)",
        (owner, [d.id for d, _, _ in done], [d.attempts for d, _, _ in done], [ref for _, ref, _ in done],
         [note for _, _, note in done]),
    ))


async def fail(conn: Connection, owner: str, delivery: Delivery, reason: str, *, permanent: bool,
               retry_after: float | None, mute: bool) -> str | None:
    """Record a failed attempt; return the delivery's new status (None: the lease was lost)."""
    status = await fetch_value(
        conn, "SELECT xp.fail_delivery(%s, %s, %s, %s, %s, %s, %s)",
        (delivery.id, owner, delivery.attempts, reason, permanent, retry_after, mute),
    )
    return None if status is None else str(status)


async def release(conn: Connection, owner: str, ids: list[int]) -> int:
    """Hand claimed deliveries back unprocessed (they are due at once); return how many."""
    return int(await fetch_value(conn, "SELECT xp.release_deliveries(%s, %s)", (owner, ids)))


async def reserve_slot(conn: Connection, keys: list[str], gaps: list[float], bursts: list[int],
                       within: float) -> tuple[float, bool]:
    """Take the next call slot under these limits if it comes within `within` seconds: (wait, taken)."""
    cur = await conn.execute("SELECT * FROM xp.reserve_slot(%s, %s, %s, %s)", (keys, gaps, within, bursts))
    row = await cur.fetchone()
    assert row is not None
    return float(row[0]), bool(row[1])


async def pause_pace(conn: Connection, keys: list[str], seconds: float) -> None:
    """No call under these limits for `seconds`, whichever instance makes it."""
    await conn.execute("SELECT xp.pause_pace(%s, %s)", (keys, seconds))


async def pace_held(conn: Connection, keys: list[str]) -> float:
    """Seconds until a pause of these limits ends (0: none)."""
    return float(await fetch_value(conn, "SELECT xp.pace_held(%s)", (keys,)))


async def guild_refused(conn: Connection, guild_id: str, reason: str) -> bool:
    """Count a guild's refusal; return whether the guild is paused now."""
    return bool(await fetch_value(conn, "SELECT xp.guild_refused(%s, %s)", (guild_id, reason)))


async def rerank_batch(conn: Connection, batch_size: int) -> int:
    """Move up to `batch_size` people out of step with xp.ranks; return how many moved."""
    return int(await fetch_value(conn, "SELECT xp.rerank_batch(%s)", (batch_size,)))


async def expire_purchases(conn: Connection) -> int:
    """Mark the shop's timed roles that ended and queue their resyncs; return how many ended."""
    return int(await fetch_value(conn, "SELECT xp.expire_purchases()"))


async def config_version(conn: Connection) -> int:
    """How many changes of the operator tables there have been (what a heartbeat says was taken up)."""
    return int(await fetch_value(conn, "SELECT xp.config_version()"))


async def settings(conn: Connection) -> dict[str, Any]:
    """The live settings (xp.settings) as key → JSON value."""
    cur = await conn.execute("SELECT key, value FROM xp.settings")
    return {key: value for key, value in await cur.fetchall()}


async def role_plans(conn: Connection, people: list[int]) -> dict[int, PersonPlans]:
    """Each person's role plan, one per mapped guild, for a whole batch in one query."""
    cur = await conn.execute(
        "SELECT u.id, p.* FROM unnest(%s::bigint[]) AS u(id), xp.discord_role_plan(u.id) AS p", (people,))
    plans: dict[int, PersonPlans] = {}
    for user_id, guild_id, member_id, desired, managed, paused in await cur.fetchall():
        plans.setdefault(user_id, PersonPlans([])).plans.append(
            RolePlan(guild_id, member_id, frozenset(desired), frozenset(managed), paused))
    return plans


async def recipients(conn: Connection, people: list[int]) -> dict[int, Recipient]:
    """Where and how each person may be told, for a whole batch in one query."""
    cur = await conn.execute(
        "SELECT u.id, r.* FROM unnest(%s::bigint[]) AS u(id), xp.telegram_recipient(u.id) AS r", (people,))
    return {row[0]: Recipient(*row[1:]) for row in await cur.fetchall()}



async def discord_recipient(conn: Connection, user_id: int) -> DiscordRecipient | None:
    """The person's Discord user and language (None: no Discord account)."""
    cur = await conn.execute("SELECT * FROM xp.discord_recipient(%s)", (user_id,))
    row = await cur.fetchone()
    return None if row is None else DiscordRecipient(*row)
