"""Discord handler: make a person's managed roles in every mapped guild match the database, and tell
a member by direct message how what they submitted or bought on Discord was reviewed.

The desired roles come from current database state (xp.discord_role_plan), so
any delivery for a person, whatever its event, converges their roles, and a
replay changes nothing. Only the difference is applied, with an audit-log
reason; roles xpsync does not manage are never touched.

Each guild converges on its own: a guild that refuses (403 Missing
Permissions or Access, a missing role, an id that is no snowflake) is
recorded (xp.guild_refused) and the other guilds are still put right; a guild
that keeps refusing is paused (a circuit breaker) and skipped until an
operator resumes it. An unknown member or a deleted user is nothing to do.

Discord's limits: every call takes a slot of the shared pace (all instances
together: the bot's requests a second, and each guild's member reads and
role edits), inside the delivery's lease. discord.py keeps its own buckets and
sleeps out short 429s; those waits are never cut short (each call runs as a
task of its own that a timeout does not cancel) and never count as failed
attempts. A longer 429 (more than MAX_RATELIMIT_WAIT) and Cloudflare's HTML
429 reschedule the delivery at their retry_after, uncounted, and pause every
call under that limit, in every instance. A rejected token (401) stops the
listener (ConfigError naming DISCORD_TOKEN).

A review (quest_reviewed, purchase_reviewed: the database sends those to the
platform the person acted on), and a quest completed by itself for a person
without Telegram (where it is told otherwise), is a direct message in their
language unless their notices are off: open the channel, send the notice (its
pace: the bot's, and each channel's), keep the message id with the ack, never
send again once one is stored. A member who takes no direct messages from the
bot (50007) is not told, and that is no guild's refusal. The roles a review
changes follow from the resync it queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import aiohttp
import discord
import psycopg
from discord.http import HTTPClient, Route
from psycopg_pool import AsyncConnectionPool

from xpsync.platforms.discord_client import REJECTED, rest_client
from xpsync.settings import ConfigError

from . import store
from .discord_limits import CallTrace, RateLimit, bucket_key, channel_key, global_key, trace
from .handler import SHORTEST_CALL, CallObserver, Delivery, Permanent, Retry, Unsent
from .notices import render
from .pace import Limit, Pace, bounded, gap
from .store import PersonPlans, RolePlan

log = logging.getLogger(__name__)
REASON = "xpsync: rank roles follow XP"
GONE = {10007, 10013}  # Unknown Member, Unknown User: not (or no longer) in the guild
MAX_RATELIMIT_WAIT = 30.0  # discord.py's smallest max_ratelimit_timeout: longer 429s raise RateLimited
REVIEWS = ("quest_reviewed", "purchase_reviewed")  # told by direct message
COMPLETED = "quest_completed"  # told by direct message to whom Telegram cannot tell
MESSAGE_LENGTH = 2000  # Discord refuses a longer message (50035)
NO_USER = "not told: no such Discord user"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}  # an operator's note that says @everyone pings nobody


class Refused(Exception):
    """The guild refused the call: a configuration problem there, not a reason to stop other guilds."""


class DiscordRoles:
    target = "discord"

    def __init__(self, token: str, api_base: str, pool: AsyncConnectionPool, *, call_timeout: float = 10.0,
                 on_call: CallObserver | None = None) -> None:
        self.token = token
        self.api_base = api_base
        self.pool = pool
        self.pace = Pace(pool)
        self.call_timeout = call_timeout
        self.on_call = on_call
        self.stats: Counter[str] = Counter()
        self.http: HTTPClient | None = None
        self.gaps = {"any": gap(40, 40), "member": gap(4.5, 4.5), "roles": gap(0.9, 0.9), "messages": gap(0.9, 0.9)}
        self.paused: set[str] = set()  # guilds paused by their refusals, as far as this process knows
        self._running: set[asyncio.Future[Any]] = set()  # calls a timeout left to finish, and 429 pauses

    async def start(self) -> None:
        """Log in with the bot token; a rejected one is a ConfigError naming DISCORD_TOKEN."""
        self.http = await rest_client(self.token, self.api_base, max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
                                      trace=trace(self._limited))

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    def configure(self, settings: dict[str, Any]) -> None:
        """The shared pace of calls (xp.settings): the bot's requests a second, and per guild its member
        reads and role edits a second, and the messages a second to one member; 0 lifts a limit."""
        self.gaps = {"any": gap(settings.get("discord.requests_per_second", 40), 40),
                     "member": gap(settings.get("discord.member_reads_per_second", 4.5), 4.5),
                     "roles": gap(settings.get("discord.role_edits_per_second", 0.9), 0.9),
                     "messages": gap(settings.get("discord.messages_per_second", 0.9), 0.9)}

    async def lookup(self, conn: psycopg.AsyncConnection[Any], people: list[int]) -> dict[int, PersonPlans]:
        plans = await store.role_plans(conn, people)
        for plan in (p for person in plans.values() for p in person.plans):
            (self.paused.add if plan.paused else self.paused.discard)(plan.guild_id)  # resumed meanwhile
        return plans

    async def handle(self, delivery: Delivery, person: PersonPlans | None) -> str | Unsent | None:
        """Converge the person's roles (other deliveries of the person in the same batch share this), or
        tell them of a review; a quest completed by itself does both for a person without Telegram."""
        if delivery.kind in REVIEWS:
            return await self._tell(delivery)
        converged = await self._converged(delivery, person)
        if delivery.kind == COMPLETED and isinstance(told := await self._tell(delivery, elsewhere=True), str):
            return told
        return converged

    async def _converged(self, delivery: Delivery, person: PersonPlans | None) -> Unsent | None:
        if person is None or not person.plans:
            return None
        if person.converging is None:
            person.converging = asyncio.ensure_future(self._converge_all(delivery, person.plans))
            self._keep(person.converging)
        result: Unsent | None = await asyncio.shield(person.converging)
        return result

    async def _converge_all(self, delivery: Delivery, plans: list[RolePlan]) -> Unsent | None:
        """Every guild at once, each on its own: a refusal or a wait in one never holds up the others."""
        live = [plan for plan in plans if plan.guild_id not in self.paused]
        skipped = [plan.guild_id for plan in plans if plan.guild_id in self.paused]
        outcomes = await asyncio.gather(*(self._converge(delivery, plan) for plan in live), return_exceptions=True)
        refusals: list[str] = []
        transient: Retry | None = None
        for plan, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Refused):
                refusals.append(str(outcome))
                await self._refused(plan.guild_id, str(outcome))
            elif isinstance(outcome, Retry):
                transient = transient or outcome  # the other guilds converged meanwhile
            elif isinstance(outcome, BaseException):
                raise outcome  # a rejected token, a bug: as if there were one guild
        if transient is not None:
            raise transient
        if refusals:
            raise Permanent("; ".join(refusals))
        if skipped:
            return Unsent(f"not converged in paused guild(s) {', '.join(skipped)}")
        return None

    async def _tell(self, delivery: Delivery, *, elsewhere: bool = False) -> str | Unsent | None:
        """The notice by direct message (with `elsewhere`, only to a person Telegram does not tell); the
        message's id, or Unsent saying why nobody was told."""
        if delivery.sent_ref is not None:
            return delivery.sent_ref  # sent before the ack was lost: never send twice
        async with self.pool.connection() as conn:
            recipient = await store.discord_recipient(conn, delivery.user_id)
        if recipient is None:
            return Unsent("not told: no Discord account any more")
        if elsewhere and recipient.on_telegram:
            return None
        if not recipient.notify:
            return Unsent("not told: notices are off")
        text = render(delivery.kind, delivery.payload, recipient.language)
        if not text:
            return None
        where = f"to user {recipient.member_id}"
        body = {"content": text[:MESSAGE_LENGTH], "allowed_mentions": NO_MENTIONS}
        try:
            channel = await self._call(delivery, [], Route("POST", "/users/@me/channels"), where=where,
                                       json={"recipient_id": recipient.member_id})
            if channel is None:
                return Unsent(NO_USER)
            message = await self._call(delivery, [Limit(channel_key(channel["id"]), self.gaps["messages"])],
                                       Route("POST", "/channels/{channel_id}/messages", channel_id=channel["id"]),
                                       where=where, json=body)
        except Refused as exc:  # 50007: they take no direct messages from the bot (or share no guild with it)
            return Unsent(f"not told: {exc}")
        if message is None:
            return Unsent(NO_USER)
        self.stats["direct_messages"] += 1
        return str(message["id"])

    async def _refused(self, guild_id: str, reason: str) -> None:
        """Count the guild's refusal at once, so that a guild that keeps refusing is paused within a call or
        two of its threshold, whatever is in flight."""
        async with self.pool.connection() as conn:
            paused = await store.guild_refused(conn, guild_id, reason)
        if paused and guild_id not in self.paused:
            self.paused.add(guild_id)
            log.warning("discord guild %s paused after repeated refusals (last: %s); "
                        "resume it with SELECT xp.resume_guild('%s')", guild_id, reason, guild_id)

    async def _converge(self, delivery: Delivery, plan: RolePlan) -> None:
        guild_id, member_id = plan.guild_id, plan.member_id
        where = f"in guild {guild_id}"
        member = await self._call(delivery, [Limit(bucket_key(guild_id, "member"), self.gaps["member"])],
                                  Route("GET", "/guilds/{guild_id}/members/{user_id}", guild_id=guild_id,
                                        user_id=member_id), where=where)
        if member is None:
            return  # not a member of that guild (or no user any more): nothing to do
        current = set(member["roles"])
        changes = [("PUT", role, "roles_added") for role in sorted(plan.desired - current)]
        changes += [("DELETE", role, "roles_removed") for role in sorted((current & plan.managed) - plan.desired)]
        for method, role, counter in changes:
            route = Route(method, "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", guild_id=guild_id,
                          user_id=member_id, role_id=role)
            if await self._call(delivery, [Limit(bucket_key(guild_id, "roles"), self.gaps["roles"])], route,
                                where=where, reason=REASON) is None:
                return
            self.stats[counter] += 1

    async def _call(self, delivery: Delivery, limits: list[Limit], route: Route, *, where: str,
                    **kwargs: Any) -> Any:
        """One call in its slot of the shared pace (the bot's, and `limits`); its answer, True for an empty
        one, None when the member is gone; a refusal names `where` it happened. The call itself runs as a
        task no timeout cancels (discord.py may be sleeping out a limit)."""
        assert self.http is not None, "start() first"
        await self.pace.slot([Limit(global_key(), self.gaps["any"]), *limits],
                             within=delivery.time_left() - SHORTEST_CALL)
        if self.on_call is not None:
            self.on_call(delivery)
        calls = CallTrace()
        network = aiohttp.ClientTimeout(total=max(SHORTEST_CALL, min(self.call_timeout, delivery.time_left())))
        call = asyncio.ensure_future(self.http.request(route, timeout=network, trace_request_ctx=calls, **kwargs))
        try:
            result = await asyncio.wait_for(asyncio.shield(call), max(SHORTEST_CALL, delivery.time_left()))
        except TimeoutError:
            if not call.done():  # still inside discord.py's rate-limit handling: let it finish on its own
                self._keep(call)
                raise Retry("discord: the call still waited out a rate limit when the lease ended",
                            retry_after=1.0) from None
            raise Retry(f"discord timed out after {self.call_timeout:g}s") from None
        except asyncio.CancelledError:
            if not call.done():
                self._keep(call)
            raise
        except discord.RateLimited as exc:  # longer than MAX_RATELIMIT_WAIT: discord.py did not wait
            raise self._wait(exc.retry_after, calls) from None
        except discord.HTTPException as exc:
            return self._refusal(exc, where, calls)
        except (aiohttp.ClientError, OSError) as exc:
            raise Retry(f"discord unreachable: {type(exc).__name__}") from None
        return True if result is None else result

    @staticmethod
    def _wait(retry_after: float | None, calls: CallTrace) -> Retry:
        """A 429 discord.py did not wait out: the delivery waits, uncounted (the pause is already set)."""
        limit = calls.limits[-1] if calls.limits else None
        seconds = bounded(retry_after if retry_after is not None else limit.seconds if limit else None)
        return Retry(f"discord 429 ({limit.words if limit else 'rate limit'}): retry after {seconds:.1f}s",
                     retry_after=seconds)

    def _refusal(self, exc: discord.HTTPException, where: str, calls: CallTrace) -> None:
        """Discord's no, as the delivery protocol sees it (None: the member is gone)."""
        text = (exc.text or "").strip().splitlines()[0] if (exc.text or "").strip() else str(exc.response.reason)
        if exc.status == 429:  # Cloudflare's HTML 429 (discord.py never waits those out)
            raise self._wait(None, calls) from None
        if exc.status == 401:
            raise ConfigError(REJECTED) from None
        if isinstance(exc, discord.NotFound) and exc.code in GONE:
            return None
        if isinstance(exc, discord.DiscordServerError):
            raise Retry(f"discord {exc.status}: {text or 'server error'}") from None
        if exc.status in (400, 403, 404):
            raise Refused(f"discord {exc.status} {where}: {text}") from None
        raise Permanent(f"discord {exc.status} {where}: {text}") from None

    def _limited(self, limit: RateLimit) -> None:
        """A 429 came back: every instance holds the calls under that limit for its retry_after."""
        if limit.keys and limit.seconds > 0:
            self._keep(asyncio.ensure_future(self.pace.pause(limit.keys, limit.seconds)))

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.debug("a call ended after its delivery was over: %s", exc)
