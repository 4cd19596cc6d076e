"""The sandbox answers as Discord and Telegram do: limits with their headers, 429s, HTML errors from
proxies, snowflakes, bad tokens, the interaction deadline, chats a bot may not start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from xpsync.sandbox import Fault, Limits, Rate, Sandbox, Window

GUILD, MEMBER, ROLE = "100000000000000001", "300000000000000001", "200000000000000002"


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(limits=replace(Limits(), discord_role_edits=Window(3, 1.0), telegram_private=Rate(1, 1.0, 2),
                                     telegram_group=Rate(2, 1.0, 2)))
    sandbox.discord.add_guild(GUILD, [ROLE])
    sandbox.discord.add_member(GUILD, MEMBER)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def bot(box: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bot {box.discord.token}"}


async def test_every_answer_announces_its_bucket_and_a_full_bucket_is_a_429(box, http):
    url = f"{box.discord_api_base}/guilds/{GUILD}/members/{MEMBER}/roles/{ROLE}"
    answers = []
    for method in ("PUT", "DELETE", "PUT", "PUT"):  # PUT and DELETE share the guild's role bucket
        async with http.request(method, url, headers=bot(box)) as r:
            answers.append((r.status, dict(r.headers), await r.read()))
    statuses = [a[0] for a in answers]
    assert statuses == [204, 204, 204, 429]
    first, last = answers[0][1], answers[3][1]
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("3", "2")
    assert float(first["X-RateLimit-Reset-After"]) <= 1.0 and float(first["X-RateLimit-Reset"]) > time.time()
    assert first["X-RateLimit-Bucket"] == last["X-RateLimit-Bucket"]
    assert (last["X-RateLimit-Scope"], last["Via"]) == ("user", "1.1 google")
    assert float(last["Retry-After"]) >= 1


async def test_more_than_fifty_requests_a_second_meet_the_global_limit(box, http):
    guilds = [str(100000000000000100 + i) for i in range(61)]  # one request per guild: no bucket fills up
    box.discord.open_guilds.update(guilds)

    async def get(guild: str) -> tuple[int, dict[str, str], dict]:
        async with http.get(f"{box.discord_api_base}/guilds/{guild}/members/{MEMBER}", headers=bot(box)) as r:
            return r.status, dict(r.headers), await r.json()

    answers = await asyncio.gather(*(get(g) for g in guilds))
    refused = [a for a in answers if a[0] == 429]
    assert len(answers) - len(refused) == 50
    _, headers, body = refused[0]
    assert (headers["X-RateLimit-Global"], headers["X-RateLimit-Scope"]) == ("true", "global")
    assert body["global"] is True and 0 < body["retry_after"] <= 1


async def test_a_long_global_429_refuses_everything_for_its_retry_after(box, http):
    box.faults.script("discord", Fault("429-global", retry_after=64.57))
    url = f"{box.discord_api_base}/guilds/{GUILD}/members/{MEMBER}"
    for _ in range(2):
        async with http.get(url, headers=bot(box)) as r:
            body = await r.json()
            assert r.status == 429 and body["global"] is True
            assert r.headers["Retry-After"] == "65" and body["retry_after"] > 60


async def test_cloudflare_and_proxies_answer_html(box, http):
    box.faults.script("discord", Fault("429-html", retry_after=30), "5xx-html")
    box.faults.script("telegram", "5xx-html")
    url = f"{box.discord_api_base}/guilds/{GUILD}/members/{MEMBER}"
    async with http.get(url, headers=bot(box)) as r:
        assert (r.status, r.content_type, r.headers["Retry-After"]) == (429, "text/html", "30")
        assert "Via" not in r.headers and "rate limited" in await r.text()
    async with http.get(url, headers=bot(box)) as r:
        assert (r.status, r.content_type) == (502, "text/html")
    box.telegram.open_chat("100")
    async with http.post(f"{box.telegram_api_base}/bot{box.telegram.token}/sendMessage",
                         data={"chat_id": "100", "text": "hi"}) as r:
        assert (r.status, r.content_type) == (502, "text/html")


async def test_ids_must_be_snowflakes_and_unknown_things_are_discords_json_errors(box, http):
    base = box.discord_api_base
    box.discord.deleted_users.add("300000000000000002")
    box.discord.left_guilds.add("100000000000000003")
    cases = {
        f"{base}/guilds/g1/members/{MEMBER}": (400, 50035),
        f"{base}/guilds/{GUILD}/members/d1": (400, 50035),
        f"{base}/guilds/100000000000000002/members/{MEMBER}": (404, 10004),
        f"{base}/guilds/100000000000000003/members/{MEMBER}": (403, 50001),
        f"{base}/guilds/{GUILD}/members/300000000000000002": (404, 10013),
        f"{base}/guilds/{GUILD}/members/300000000000000003": (404, 10007),
    }
    for url, expected in cases.items():
        async with http.get(url, headers=bot(box)) as r:
            assert (r.status, (await r.json())["code"]) == expected, url
    async with http.put(f"{base}/guilds/{GUILD}/members/{MEMBER}/roles/r2", headers=bot(box)) as r:
        body = await r.json()
        assert r.status == 400 and "is not snowflake" in str(body["errors"])


async def test_a_bad_token_is_401_everywhere(box, http):
    for url in (f"{box.discord_api_base}/users/@me", f"{box.discord_api_base}/guilds/{GUILD}/members/{MEMBER}"):
        async with http.get(url, headers={"Authorization": "Bot reset-token"}) as r:
            assert r.status == 401
    async with http.post(f"{box.telegram_api_base}/botnot:mine/sendMessage", data={"chat_id": "1"}) as r:
        assert r.status == 401 and (await r.json())["error_code"] == 401


async def test_too_many_invalid_requests_get_the_ip_banned_by_cloudflare(http):
    sandbox = Sandbox(limits=replace(Limits(), discord_invalid=Window(5, 600), discord_ban_seconds=60))
    await sandbox.start()
    try:
        for _ in range(6):
            async with http.get(f"{sandbox.discord_api_base}/users/@me", headers={"Authorization": "Bot no"}) as r:
                await r.read()
        async with http.get(f"{sandbox.discord_api_base}/users/@me", headers=bot(sandbox)) as r:
            assert (r.status, r.content_type) == (429, "text/html")  # even with the right token
            assert int(r.headers["Retry-After"]) > 50
    finally:
        await sandbox.stop()


async def test_an_interaction_is_answered_within_three_seconds_and_once(box, http):
    def callback(interaction_id: str) -> str:
        return f"{box.discord_api_base}/interactions/{interaction_id}/token/callback"

    fresh, stale = box.discord.interaction_id(), box.discord.interaction_id(time.time() - 3.5)
    answers = []
    for interaction_id in (fresh, fresh, stale):
        async with http.post(callback(interaction_id), json={"type": 5}) as r:
            answers.append((r.status, (await r.json()).get("code")))
    assert answers == [(200, None), (400, 40060), (404, 10062)]
    assert [r.interaction_id for r in box.discord.interaction_replies] == [fresh]


async def send(http: aiohttp.ClientSession, box: Sandbox, chat_id: str) -> tuple[int, dict]:
    async with http.post(f"{box.telegram_api_base}/bot{box.telegram.token}/sendMessage",
                         data={"chat_id": chat_id, "text": "hello"}) as r:
        return r.status, await r.json()


async def test_a_bot_cannot_start_a_conversation_nor_write_to_who_blocked_it(box, http):
    box.telegram.blocked.add("101")
    box.telegram.deactivated.add("102")
    box.telegram.kicked.add("-1001")
    box.telegram.open_chat("101", "102", "103")
    answers = {chat: await send(http, box, chat) for chat in ("100", "101", "102", "103", "-1001", "-1002", "x")}
    assert {chat: (status, body.get("description")) for chat, (status, body) in answers.items()} == {
        "100": (403, "Forbidden: bot can't initiate conversation with a user"),
        "101": (403, "Forbidden: bot was blocked by the user"),
        "102": (403, "Forbidden: user is deactivated"),
        "103": (200, None),
        "-1001": (403, "Forbidden: bot was kicked from the group chat"),
        "-1002": (200, None),
        "x": (400, "Bad Request: chat not found"),
    }


async def test_telegram_limits_a_chat_and_a_group_with_retry_after(box, http):
    box.telegram.open_chat("100")
    private = [await send(http, box, "100") for _ in range(3)]
    group = [await send(http, box, "-1005") for _ in range(3)]
    for answers in (private, group):
        assert [status for status, _ in answers] == [200, 200, 429]  # a burst of two, then the rate
        body = answers[2][1]
        assert body["parameters"]["retry_after"] >= 1 and body["description"].startswith("Too Many Requests")
    box.faults.script("telegram", Fault("429", retry_after=100_000))
    status, body = await send(http, box, "-1006")
    assert (status, body["parameters"]["retry_after"]) == (429, 100_000)


async def test_lifted_limits_let_everything_through_at_once(http):
    sandbox = Sandbox(limits=Limits.lifted(telegram_requires_start=False))
    sandbox.discord.open_guilds.add(GUILD)
    await sandbox.start()
    try:
        answers = await asyncio.gather(*(send(http, sandbox, "100") for _ in range(40)))
        assert {status for status, _ in answers} == {200}
        async with http.put(f"{sandbox.discord_api_base}/guilds/{GUILD}/members/{MEMBER}/roles/{ROLE}",
                            headers=bot(sandbox)) as r:
            assert r.status == 204 and int(r.headers["X-RateLimit-Limit"]) >= 10_000
    finally:
        await sandbox.stop()
