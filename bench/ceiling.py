"""The physical limit of delivery on this machine: the platform calls alone.

The same HTTP calls a delivery makes (Discord: read the member, add a role;
Telegram: send a message), with the listener's concurrency, from a bare aiohttp
client to the same sandbox process: no database, no client library, no lease,
no ack. The listener's drain rate divided by this is how much of the machine's
room for platform calls it uses.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from xpsync.listener.notices import render

FIRST_ACCOUNT = 5_000_000  # clear of the accounts the listener runs use


RANK_UP = render("rank_changed", {"old_rank": 1, "new_rank": 2, "emoji": "🥉", "name": "F2"}, "en")


async def discord_calls(session: aiohttp.ClientSession, base: str, token: str, role: tuple[str, str],
                        account: int) -> None:
    """A Discord rank-up's platform calls: read the member, add the rank's role."""
    guild, role_id = role
    headers = {"Authorization": f"Bot {token}"}
    member = f"{base}/guilds/{guild}/members/{account}"
    async with session.get(member, headers=headers) as response:
        await response.json()
    async with session.put(f"{member}/roles/{role_id}", headers=headers) as response:
        await response.read()


async def telegram_calls(session: aiohttp.ClientSession, base: str, token: str, _role: tuple[str, str],
                         account: int) -> None:
    """A Telegram rank-up's platform call: send the notice."""
    async with session.post(f"{base}/bot{token}/sendMessage",
                            data={"chat_id": str(account), "text": RANK_UP}) as response:
        await response.json()


CALLS = {"discord": discord_calls, "telegram": telegram_calls}


async def _run(target: str, env: dict[str, str], role: tuple[str, str], deliveries: int, concurrency: int,
               first: int) -> float:
    call = CALLS[target]
    base, token = env[f"{target.upper()}_API_BASE"], env[f"{target.upper()}_TOKEN"]
    slots = asyncio.Semaphore(concurrency)

    async def one(account: int) -> None:
        async with slots:
            await call(session, base, token, role, account)

    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        await asyncio.gather(*(one(first + n) for n in range(deliveries)))
        return deliveries / (time.monotonic() - started)


def platform_calls_per_second(target: str, env: dict[str, str], role: tuple[str, str], deliveries: int,
                              concurrency: int, first: int = FIRST_ACCOUNT) -> float:
    """Deliveries' worth of platform calls per second, made with nothing else in the way;
    `role` is the (guild, role) a Discord rank-up adds."""
    return asyncio.run(_run(target, env, role, deliveries, concurrency, first))
