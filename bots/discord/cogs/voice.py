"""Voice XP: eligible voice seconds reported to xp.record_voice every minute and when a member leaves.

Which seconds are eligible is the VoiceTracker's business (voice_tracker.py);
this cog feeds it what discord.py sees and reports what it counts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.channel import VocalGuildChannel
from discord.ext import commands, tasks

from ...api import Xp
from ..voice_tracker import Session, Voice, VoiceTracker

if TYPE_CHECKING:
    from ..client import XpBot

log = logging.getLogger(__name__)

VoiceLike = VocalGuildChannel  # a voice or a stage channel


def voices(channel: VoiceLike) -> list[Voice]:
    return [Voice(str(m.id), m.bot, bool(m.voice and (m.voice.self_mute or m.voice.self_deaf or m.voice.mute
                                                      or m.voice.deaf)))
            for m in channel.members]


class VoiceXp(commands.Cog):
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

    def observe(self, channel: VoiceLike) -> None:
        guild = channel.guild
        self.tracker.channel(str(guild.id), str(channel.id), voices(channel),
                             afk=guild.afk_channel is not None and guild.afk_channel.id == channel.id)

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        """The gateway is gone (fired again for every failed attempt to reconnect): nothing counts
        until the next snapshot."""
        self.tracker.suspend()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """After a start or a new gateway session: the guilds as they are now."""
        await self.resync()

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        """The gateway session resumed (missed events replayed): counting starts again."""
        await self.resync()

    async def resync(self) -> None:
        """Sessions of members no longer in voice end and are paid up to the loss of the gateway;
        whoever is in voice now goes on (or starts a new session)."""
        channels = [c for guild in (self.bot.guilds if self.bot else [])
                    for c in [*guild.voice_channels, *guild.stage_channels]]
        present = {(str(c.guild.id), str(m.id)) for c in channels for m in c.members if not m.bot}
        for member_id, session in self.tracker.resume(present):
            try:
                await self.send(member_id, session, int(session.seconds))
            except Exception as exc:  # noqa: BLE001 - one failed report must not stop the others
                log.warning("last voice report for %s failed: %s", member_id, exc)
        for channel in channels:
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

    async def send(self, member_id: str, session: Session, seconds: int) -> None:
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


async def setup(bot: XpBot) -> None:
    await bot.add_cog(VoiceXp(bot.xp, bot=bot))
