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


def test_a_lost_gateway_stops_every_session_and_the_next_snapshot_ends_those_gone():
    t, clock = tracker()
    t.channel("g", "c", [Voice("1"), Voice("2"), Voice("3")], afk=False)
    clock.now = 120
    t.suspend()  # the gateway is gone: nobody can tell who stays
    clock.now = 3720  # an hour later it is back; 2 left meanwhile, 1 and 3 are still there
    assert seconds(t) == {"1": 120, "2": 120, "3": 120}  # the hour away counts for nobody
    ended = t.resume({("g", "1"), ("g", "3")})
    assert [(member, int(s.seconds)) for member, s in ended] == [("2", 120)]  # paid up to the loss
    assert ("g", "2") not in t.sessions
    t.channel("g", "c", [Voice("1"), Voice("3")], afk=False)
    clock.now = 3780
    assert seconds(t) == {"1": 180, "3": 180}  # counting starts again from the snapshot


def test_a_snapshot_without_a_seen_loss_ends_the_absent_sessions_now():
    t, clock = tracker()
    t.channel("g", "c", [Voice("1"), Voice("2")], afk=False)
    t.channel("h", "d", [Voice("1"), Voice("4")], afk=False)
    clock.now = 60
    ended = t.resume({("g", "1"), ("g", "2"), ("h", "4")})  # 1 left voice in guild h only
    assert [(member, int(s.seconds)) for member, s in ended] == [("1", 60)]
    assert set(t.sessions) == {("g", "1"), ("g", "2"), ("h", "4")}
    assert t.resume(set()) and t.sessions == {}  # a snapshot with nobody in voice ends everything
