"""The Discord bot's cogs, one per feature. Every number shown comes from the SQL API."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from ..api import Xp
from ..replies import board_text, link_text
from ..texts import say
from .errors import language_of
from .voice_tracker import Voice, VoiceTracker

log = logging.getLogger(__name__)


class Linking(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="link", description="Link your Telegram account (no code: get one)")
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        lang = language_of(interaction)
        who = str(interaction.user.id)
        if code:
            text = link_text(await self.xp.redeem_link_code(who, code.strip()), lang)
        else:
            text = say(lang, "link_code", code=await self.xp.create_link_code(who))
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="unlink", description="Take this Discord account off your linked progression")
    async def unlink(self, interaction: discord.Interaction) -> None:
        await self.xp.unlink(str(interaction.user.id))
        await interaction.response.send_message(say(language_of(interaction), "unlink_done"), ephemeral=True)


def profile_embed(p: dict, lang: str) -> discord.Embed:
    rank = p["rank"]
    embed = discord.Embed(title=f"{rank['emoji']} {p.get('display_name') or '—'}",
                          colour=discord.Colour(int(rank["color"].lstrip("#"), 16)))
    embed.add_field(name="Rank", value=rank["name"])
    embed.add_field(name="XP", value=str(p["xp"]))
    embed.add_field(name="Coins", value=str(p["coins"]))
    nxt = p.get("next_rank")
    if nxt:
        done = p["xp"] - rank["min_xp"]
        span = nxt["min_xp"] - rank["min_xp"]
        bar = "█" * (10 * done // span) + "░" * (10 - 10 * done // span)
        embed.add_field(name="Progress", value=f"{bar} {say(lang, 'progress', remaining=nxt['xp_remaining'], next=nxt['name'])}",
                        inline=False)
    else:
        embed.add_field(name="Progress", value=say(lang, "top_rank"), inline=False)
    embed.add_field(name="Place", value=f"#{p['place']}" if p.get("place") else "—")
    embed.add_field(name="Streak", value=str(p["streak"]))
    embed.add_field(name="Achievements", value=" ".join(a["emoji"] for a in p["achievements"]) or "—")
    embed.add_field(name="Accounts", value=", ".join(a["platform"] for a in p["accounts"]), inline=False)
    return embed


class Profile(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="profile", description="Rank, XP, coins and progress (yours or a member's)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        who = member or interaction.user
        p = await self.xp.profile(str(who.id))
        await interaction.response.send_message(embed=profile_embed(p, language_of(interaction)))

    @app_commands.command(name="top", description="The leaderboard")
    async def top(self, interaction: discord.Interaction,
                  period: Literal["all", "season", "month", "week"] = "all") -> None:
        rows = await self.xp.leaderboard(period)
        await interaction.response.send_message(board_text(rows, period, language_of(interaction)))


class Roles(commands.Cog):
    """Rank roles are the listener's job; the bot asks for a resync whenever they may have drifted."""

    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="sync", description="Put your rank roles right")
    async def sync(self, interaction: discord.Interaction) -> None:
        await self.xp.request_resync(str(interaction.user.id))
        await interaction.response.send_message(say(language_of(interaction), "sync_done"), ephemeral=True)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if {r.id for r in before.roles} != {r.id for r in after.roles} and not after.bot:
            # a role changed by hand (or by the listener itself: then the resync finds nothing to do)
            await self.xp.request_resync(str(after.id))

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if not member.bot:
            await self.xp.request_resync(str(member.id))


class Chat(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or message.content.startswith(("/", "!")):
            return
        await self.xp.record_message(str(message.author.id), str(message.channel.id), str(message.id),
                                     len(message.content), message.author.display_name)


def voices(channel: discord.VoiceChannel | discord.StageChannel) -> list[Voice]:
    return [Voice(str(m.id), m.bot, bool(m.voice and (m.voice.self_mute or m.voice.self_deaf or m.voice.mute
                                                      or m.voice.deaf)))
            for m in channel.members]


class VoiceXp(commands.Cog):
    """Eligible voice seconds reported to xp.record_voice every minute and when a member leaves."""

    def __init__(self, xp: Xp, tracker: VoiceTracker | None = None, *, bot: commands.Bot | None = None,
                 every: float = 60.0) -> None:
        self.xp = xp
        self.bot = bot
        self.tracker = tracker or VoiceTracker()
        self.report_loop.change_interval(seconds=every)

    async def cog_load(self) -> None:
        self.report_loop.start()

    async def cog_unload(self) -> None:
        self.report_loop.cancel()
        await self.report()

    def observe(self, channel) -> None:  # noqa: ANN001
        guild = channel.guild
        self.tracker.channel(str(guild.id), str(channel.id), voices(channel),
                             afk=guild.afk_channel is not None and guild.afk_channel.id == channel.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """After a (re)start: whoever is in voice now starts a new session."""
        for guild in self.bot.guilds if self.bot else []:
            for channel in guild.voice_channels + guild.stage_channels:
                self.observe(channel)

    @commands.Cog.listener()
    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if after.channel is None:
            ended = self.tracker.leave(str(member.guild.id), str(member.id))
            if ended is not None:
                await self.send(str(member.id), ended, int(ended.seconds))
        for channel in {c.id: c for c in (before.channel, after.channel) if c is not None}.values():
            self.observe(channel)

    async def send(self, member_id: str, session, seconds: int) -> None:  # noqa: ANN001
        if seconds > session.reported and seconds > 0:
            await self.xp.record_voice(member_id, session.session_id, seconds)
            session.reported = seconds

    async def report(self) -> None:
        for member_id, session, seconds in self.tracker.due():
            try:
                await self.send(member_id, session, seconds)
            except Exception as exc:  # noqa: BLE001 - the next round reports the same total again
                log.warning("voice report for %s failed: %s", member_id, exc)

    @tasks.loop(seconds=60)
    async def report_loop(self) -> None:
        await self.report()

