"""The Discord bot's real cogs: slash commands fed as gateway INTERACTION_CREATE payloads and answered
through the sandbox's REST API; voice, message and member events fed as the objects discord.py passes."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace as NS

import pytest

from tests.helpers import call, scalar
from tests.listener.conftest import eventually
from xpsync.bots.api import Xp
from xpsync.bots.discord.client import XpBot
from xpsync.bots.discord.cogs.chat import Chat
from xpsync.bots.discord.cogs.roles import Roles
from xpsync.bots.discord.cogs.voice import VoiceXp
from xpsync.bots.discord.voice_tracker import VoiceTracker
from xpsync.platforms.discord_client import use_api_base


@pytest.fixture
async def bot(pool, sandbox):
    use_api_base(sandbox.discord_api_base)
    client = XpBot(pool, sync_commands=False)
    await client.login(sandbox.discord.token)  # REST only: /users/@me, the application, then setup_hook
    yield client
    await client.close()


async def slash(bot, sandbox, name, options=(), user_id="555", locale="en-US", resolved=None):
    n = sandbox.discord.interaction_id()  # a snowflake of now: Discord's 3 seconds to answer start here
    before = len(sandbox.discord.interaction_replies)
    bot._connection.parse_interaction_create({
        "id": n, "application_id": "1000", "type": 2, "token": f"tok{n}", "version": 1, "guild_id": "77",
        "channel": {"id": "88", "type": 0, "guild_id": "77", "name": "general", "position": 0},
        "channel_id": "88", "locale": locale, "attachment_size_limit": 8_388_608, "app_permissions": "0",
        "entitlements": [],
        "member": {"user": {"id": user_id, "username": "ivan", "discriminator": "0", "global_name": "Ivan",
                            "avatar": None}, "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                   "deaf": False, "mute": False, "permissions": "0", "flags": 0},
        "data": {"id": "1", "name": name, "type": 1, "options": [dict(o) for o in options],
                 **({"resolved": resolved} if resolved else {})},
    })
    await eventually(lambda: len(sandbox.discord.interaction_replies) > before)
    return sandbox.discord.interaction_replies[-1]


async def test_profile_is_an_embed_with_rank_colour_and_progress(bot, sandbox, conn):
    call(conn, "award_xp", "discord", "555", 300, "r", "k1", "Ivan")
    reply = await slash(bot, sandbox, "profile")
    embed = reply.data["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert embed["color"] == 0x9E9E9E and embed["title"] == "🌱 Ivan"
    assert (fields["Rank"], fields["XP"], fields["Coins"]) == ("F II", "300", "50")
    assert fields["Progress"].endswith("470 XP to F III") and fields["Progress"].startswith("░")
    assert fields["Accounts"] == "discord"


async def test_profile_carries_the_rank_card_as_the_embeds_image(bot, sandbox, conn):
    from xpsync.cards import Card, card_png

    call(conn, "award_xp", "discord", "555", 300, "r", "k1", "Ivan")
    reply = await slash(bot, sandbox, "profile")
    assert reply.data["embeds"][0]["image"]["url"] == "attachment://card.png"
    assert [(f.filename, f.data[:4]) for f in reply.files] == [("card.png", b"\x89PNG")]
    profile = scalar(conn, "SELECT xp.profile('discord', '555')")
    assert reply.files[0].data == card_png(Card.from_profile(profile, "en"))


async def test_privacy_hides_a_member_from_the_boards_and_from_others_profiles(bot, sandbox, conn):
    call(conn, "award_xp", "discord", "555", 300, "r", "k1", "Ivan")
    reply = await slash(bot, sandbox, "privacy", options=[{"name": "state", "type": 3, "value": "on"}])
    assert reply.data["content"].startswith("🙈 You are hidden") and reply.data["flags"] == 64  # ephemeral
    assert scalar(conn, "SELECT hidden FROM xp.users") is True
    assert (await slash(bot, sandbox, "top")).data["content"].endswith("Nobody is on this board yet.")
    # another member asking for Ivan's profile
    ivan = {"id": "555", "username": "ivan", "discriminator": "0", "global_name": "Ivan", "avatar": None}
    other = await slash(bot, sandbox, "profile", user_id="556",
                        options=[{"name": "member", "type": 6, "value": "555"}],
                        resolved={"users": {"555": ivan}, "members": {"555": {
                            "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                            "permissions": "0", "flags": 0}}})
    assert other.data["content"] == "This member chose privacy." and not other.files
    # Ivan still sees his own
    assert (await slash(bot, sandbox, "profile")).files
    reply = await slash(bot, sandbox, "privacy", options=[{"name": "state", "type": 3, "value": "off"}])
    assert reply.data["content"] == "👀 You are shown on the public boards again."
    assert "Ivan" in (await slash(bot, sandbox, "top")).data["content"]


async def test_profile_labels_speak_the_members_language(bot, sandbox, conn):
    call(conn, "award_xp", "discord", "555", 300, "r", "k1", "Ivan")
    reply = await slash(bot, sandbox, "profile", locale="ru")
    fields = {f["name"]: f["value"] for f in reply.data["embeds"][0]["fields"]}
    assert list(fields) == ["Ранг", "Опыт", "Монеты", "Прогресс", "Место", "Серия", "Достижения", "Аккаунты"]
    assert (fields["Ранг"], fields["Опыт"]) == ("F II", "300")
    assert fields["Прогресс"].endswith("до F III: 470 опыта")


async def test_link_issues_a_code_telegram_redeems_and_top_shows_one_person(bot, sandbox, conn):
    call(conn, "award_xp", "telegram", "t1", 40, "r", "k1", "Ivan")
    reply = await slash(bot, sandbox, "link")
    assert reply.data["flags"] == 64  # ephemeral: only the member sees the code
    code = reply.data["content"].split()[3]
    assert scalar(conn, "SELECT xp.redeem_link_code('telegram', 't1', %s)", code) is not None
    board = await slash(bot, sandbox, "top", [{"name": "period", "type": 3, "value": "week"}])
    assert board.data["content"] == "🏆 Top — this week\n1. Ivan — 140 XP"  # 40 + the first-link achievement


async def test_refusals_are_one_friendly_line_in_the_members_language(bot, sandbox, conn):
    call(conn, "award_xp", "discord", "555", 1, "r", "k1")
    reply = await slash(bot, sandbox, "unlink")
    assert (reply.data["content"], reply.data["flags"]) == (
        "This is your only account: there is nothing to unlink it from.", 64)
    for _ in range(5):
        await slash(bot, sandbox, "link", [{"name": "code", "type": 3, "value": "BADBAD22"}])
    locked = await slash(bot, sandbox, "link", [{"name": "code", "type": 3, "value": "BADBAD22"}], locale="ru")
    assert locked.data["content"] == "⛔ Слишком много неверных кодов. Попробуйте через 10 минут."


async def test_sync_queues_a_role_resync(bot, sandbox, conn):
    call(conn, "award_xp", "discord", "555", 1, "r", "k1")
    conn.execute("DELETE FROM xp.deliveries")
    reply = await slash(bot, sandbox, "sync")
    assert reply.data["content"].startswith("🔄")
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'discord' AND status = 'pending'") == 1


async def test_a_slow_database_is_deferred_within_the_deadline_and_answered_when_it_returns(bot, sandbox, conn,
                                                                                           connect):
    call(conn, "award_xp", "discord", "555", 40, "r", "k1", "Ivan")
    blocker = connect()  # the database is slow: every read of people waits for this transaction
    blocker.execute("BEGIN")
    blocker.execute("LOCK TABLE xp.users, xp.accounts IN ACCESS EXCLUSIVE MODE")
    board = await slash(bot, sandbox, "top")
    synced = await slash(bot, sandbox, "sync")
    card = await slash(bot, sandbox, "profile")
    # all deferred while their calls still wait (sync privately: only the member will see its answer)
    assert (board.type, synced.type, synced.data.get("flags"), card.type) == (5, 5, 64, 5)
    assert sandbox.followups.sent == []
    blocker.execute("COMMIT")
    answers = await eventually(lambda: len(sandbox.followups.sent) == 3 and {
        f.token: f for f in sandbox.followups.sent})
    assert answers[f"tok{board.interaction_id}"].data["content"] == "🏆 Top — all time\n1. Ivan — 40 XP"
    assert answers[f"tok{synced.interaction_id}"].data["content"].startswith("🔄")
    profile = answers[f"tok{card.interaction_id}"]  # the embed and its rank card follow as well
    assert profile.data["embeds"][0]["image"]["url"] == "attachment://card.png"
    assert [(f.filename, f.data[:4]) for f in profile.files] == [("card.png", b"\x89PNG")]
    quick = await slash(bot, sandbox, "top")  # a quick database: answered at once, in one request
    assert quick.type == 4 and len(sandbox.followups.sent) == 3


async def test_a_refusal_after_a_deferral_is_the_follow_up(bot, sandbox, conn, connect):
    call(conn, "award_xp", "discord", "555", 1, "r", "k1")
    blocker = connect()
    blocker.execute("BEGIN")
    blocker.execute("LOCK TABLE xp.accounts IN ACCESS EXCLUSIVE MODE")
    deferred = await slash(bot, sandbox, "unlink")
    assert (deferred.type, deferred.data.get("flags")) == (5, 64)
    blocker.execute("COMMIT")
    follow = await eventually(lambda: sandbox.followups.to(f"tok{deferred.interaction_id}"))
    assert follow[0].data["content"] == "This is your only account: there is nothing to unlink it from."


# --- events ---------------------------------------------------------------------------------------


def member(mid, *, bot=False, roles=(), mute=False):
    return NS(id=mid, bot=bot, display_name=f"m{mid}", roles=[NS(id=r) for r in roles],
              voice=NS(self_mute=mute, self_deaf=False, mute=False, deaf=False), guild=GUILD)


GUILD = NS(id=77, afk_channel=None, voice_channels=[], stage_channels=[])


async def test_messages_count_but_bots_dms_and_commands_do_not(pool, conn):
    chat = Chat(Xp(pool, "discord"))
    author = member(1)
    for i, (who, guild, text) in enumerate([(author, GUILD, "hello there"), (member(2, bot=True), GUILD, "beep"),
                                            (author, None, "a dm"), (author, GUILD, "!rank")]):
        await chat.on_message(NS(author=who, guild=guild, content=text, channel=NS(id=88), id=i))
    await chat.messages.flush()
    assert scalar(conn, "SELECT count(*) FROM xp.message_log") == 1
    assert scalar(conn, "SELECT messages FROM xp.users") == 1


@pytest.mark.parametrize(("before", "after", "queued"), [
    ([5, 9], [5, 9], 0),  # a nickname change: no role changed
    ([5], [], 1),  # the rank role the member should hold, taken away by hand
    ([5], [5, 6], 1),  # another rank's role, given by hand
    ([], [5], 0),  # the role they should hold, given (the listener at work)
    ([5, 6], [5], 0),  # a role they should not hold, taken away (the listener at work)
    ([5], [5, 9], 0),  # a role xpsync does not manage
])
async def test_a_role_change_asks_for_a_resync_only_when_it_drifts_from_the_plan(pool, conn, before, after, queued):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('77', 1, '5'), ('77', 2, '6')")
    call(conn, "award_xp", "discord", "1", 1, "r", "k1")  # rank 1: should hold role 5 in guild 77
    conn.execute("DELETE FROM xp.deliveries")
    await Roles(Xp(pool, "discord")).on_member_update(member(1, roles=before), member(1, roles=after))
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'discord'") == queued


async def test_drift_elsewhere_or_of_strangers_asks_for_nothing_and_a_join_asks_for_a_resync(pool, conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('78', 1, '5')")  # guild 77 maps no role
    call(conn, "award_xp", "discord", "1", 1, "r", "k1")
    conn.execute("DELETE FROM xp.deliveries")
    roles = Roles(Xp(pool, "discord"))
    await roles.on_member_update(member(1, roles=[5]), member(1, roles=[]))
    await roles.on_member_update(member(2, roles=[5]), member(2, roles=[]))  # never seen
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries") == 0
    await roles.on_member_join(member(1))
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE target = 'discord'") == 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Room:
    """A voice channel whose member list the test edits, with the events discord.py would send."""

    def __init__(self, cog, cid, guild=GUILD):
        self.cog, self.channel = cog, NS(id=cid, guild=guild, members=[])

    async def join(self, m):
        self.channel.members.append(m)
        await self.cog.on_voice_state_update(m, NS(channel=None), NS(channel=self.channel))

    async def leave(self, m):
        self.channel.members.remove(m)
        await self.cog.on_voice_state_update(m, NS(channel=self.channel), NS(channel=None))

    async def mute(self, m, muted):
        m.voice.self_mute = muted
        await self.cog.on_voice_state_update(m, NS(channel=self.channel), NS(channel=self.channel))


def voice_xp(conn, who):
    return scalar(conn, "SELECT coalesce(sum(l.delta), 0) FROM xp.ledger l JOIN xp.accounts a ON a.id = l.account_id "
                        "WHERE a.external_id = %s AND l.reason = 'voice'", who)


async def test_voice_pays_exactly_the_eligible_minutes(pool, conn):
    clock = Clock()
    cog = VoiceXp(Xp(pool, "discord"), VoiceTracker(clock=clock))
    room = Room(cog, 10)
    a, b, bot_member = member(1), member(2), member(3, bot=True)
    await room.join(a)  # alone: not eligible
    await room.join(bot_member)  # bots do not count
    clock.now = 60
    await room.join(b)  # now both are eligible
    clock.now = 180
    await room.mute(a, True)  # a muted: a stops; b still has company
    clock.now = 240
    await room.mute(a, False)
    clock.now = 400
    await cog.report()  # the minute report: totals so far, nothing twice
    await cog.report()
    clock.now = 600
    await room.leave(b)  # b: 60..600 = 540 s = 9 min; a is alone from now
    clock.now = 900
    await room.leave(a)  # a: 60..180 + 240..600 = 480 s = 8 min
    assert (voice_xp(conn, "2"), voice_xp(conn, "1")) == (27, 24)
    seconds = {r["external_id"]: r["voice_seconds"] for r in conn.execute(
        "SELECT a.external_id, u.voice_seconds FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id")}
    assert seconds == {"1": 480, "2": 540}


async def test_the_afk_channel_pays_nothing_and_moving_keeps_the_session(pool, conn):
    clock = Clock()
    afk = NS(id=99)
    guild = NS(id=78, afk_channel=afk, voice_channels=[], stage_channels=[])
    cog = VoiceXp(Xp(pool, "discord"), VoiceTracker(clock=clock))
    lounge, sleep = Room(cog, 98, guild), Room(cog, 99, guild)
    a, b = member(1), member(2)
    a.guild = b.guild = guild
    await sleep.join(a)
    await sleep.join(b)
    clock.now = 300
    # a moves to the lounge (one event: before = AFK, after = lounge), b follows a minute later
    sleep.channel.members.remove(a)
    lounge.channel.members.append(a)
    await cog.on_voice_state_update(a, NS(channel=sleep.channel), NS(channel=lounge.channel))
    clock.now = 360
    sleep.channel.members.remove(b)
    lounge.channel.members.append(b)
    await cog.on_voice_state_update(b, NS(channel=sleep.channel), NS(channel=lounge.channel))
    clock.now = 480
    await lounge.leave(a)
    await lounge.leave(b)
    assert (voice_xp(conn, "1"), voice_xp(conn, "2")) == (6, 6)  # 120 s each, together in the lounge
    assert scalar(conn, "SELECT count(*) FROM xp.voice_sessions") == 2  # one session each, moves included


async def test_a_restarted_bot_opens_new_sessions_and_counts_nothing_twice(pool, conn):
    clock = Clock()
    xp = Xp(pool, "discord")
    first = VoiceXp(xp, VoiceTracker(clock=clock, wall=lambda: 1000.0))
    room = Room(first, 10)
    a, b = member(1), member(2)
    await room.join(a)
    await room.join(b)
    clock.now = 150
    await first.report()  # 2 min each reported; then the bot dies without a last report
    second = VoiceXp(xp, VoiceTracker(clock=clock, wall=lambda: 2000.0))
    second.observe(room.channel)  # on_ready after the restart
    clock.now = 270
    await second.report()
    await asyncio.sleep(0)
    assert (voice_xp(conn, "1"), voice_xp(conn, "2")) == (12, 12)  # 2 min + 2 min, the 30 s lost at the crash
