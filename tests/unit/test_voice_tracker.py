"""Eligible voice time from voice-state snapshots, on a fake clock: company, mutes, AFK, bots, moves."""

from __future__ import annotations

from xpsync.bots.discord.voice_tracker import Voice, VoiceTracker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tracker() -> tuple[VoiceTracker, Clock]:
    clock = Clock()
    return VoiceTracker(clock=clock, wall=lambda: 1_700_000_000.0), clock


def seconds(t: VoiceTracker) -> dict[str, int]:
    return {member: total for member, _, total in t.due()}


def test_alone_or_with_bots_only_earns_nothing():
    t, clock = tracker()
    t.channel("g", "c", [Voice("1"), Voice("bot", bot=True)], afk=False)
    clock.now = 600
    assert seconds(t) == {}
    assert "bot" not in {member for (_, member) in t.sessions}  # bots have no session at all


def test_two_people_earn_from_the_moment_they_have_company_until_one_mutes():
    t, clock = tracker()
    t.channel("g", "c", [Voice("1")], afk=False)
    clock.now = 60
    t.channel("g", "c", [Voice("1"), Voice("2")], afk=False)
    clock.now = 180
    t.channel("g", "c", [Voice("1", muted=True), Voice("2")], afk=False)
    clock.now = 240
    # 1 was eligible 60..180; 2 has company (1 is there, muted) and counts on
    assert seconds(t) == {"1": 120, "2": 180}


def test_the_afk_channel_earns_nothing():
    t, clock = tracker()
    t.channel("g", "afk", [Voice("1"), Voice("2")], afk=True)
    clock.now = 300
    assert seconds(t) == {}


def test_leaving_ends_the_session_with_its_total_and_moving_keeps_it():
    t, clock = tracker()
    t.channel("g", "a", [Voice("1"), Voice("2")], afk=False)
    session = t.sessions[("g", "1")]
    clock.now = 100
    t.channel("g", "b", [Voice("1"), Voice("3")], afk=False)  # 1 moves to b, where 3 is
    assert t.sessions[("g", "1")] is session and session.channel_id == "b"
    clock.now = 250
    ended = t.leave("g", "1")
    assert ended is session and int(ended.seconds) == 250
    assert ("g", "1") not in t.sessions
    assert t.leave("g", "1") is None  # a second leave changes nothing


def test_due_reports_only_unreported_whole_seconds():
    t, clock = tracker()
    t.channel("g", "c", [Voice("1"), Voice("2")], afk=False)
    clock.now = 90.7
    due = {member: (s, total) for member, s, total in t.due()}
    assert {m: total for m, (_, total) in due.items()} == {"1": 90, "2": 90}
    for s, total in due.values():
        s.reported = total
    assert t.due() == []
    clock.now = 91.2
    assert seconds(t) == {"1": 91, "2": 91}


def test_session_ids_carry_guild_member_and_start_so_a_restart_opens_new_ones():
    t, _ = tracker()
    t.channel("g", "c", [Voice("1"), Voice("2")], afk=False)
    assert t.sessions[("g", "1")].session_id == "g:1:1700000000000"
    later = VoiceTracker(wall=lambda: 1_700_000_060.0)
    later.channel("g", "c", [Voice("1"), Voice("2")], afk=False)
    assert later.sessions[("g", "1")].session_id != t.sessions[("g", "1")].session_id
