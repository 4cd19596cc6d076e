"""The demo's summary: a titled list of (what, figure) lines, opening with its first line, not an empty header."""

from __future__ import annotations

from collections import Counter

from xpsync.demo import report


def figures() -> report.Figures:
    return report.Figures(
        members=20, seconds=3.0, calls=Counter({"message": 30, "merged": 2}), applied=25,
        events={"rank_changed": 4}, deliveries={("discord", "done"): 4, ("telegram", "done"): 3},
        retried_to_done=1, latencies={"discord": [0.002, 0.004], "telegram": []},
        role_changes=Counter({"add": 3}), messages=3, direct_messages=2, faults=Counter({("discord", "429"): 1}),
    )


def test_the_summary_opens_with_its_first_line_under_the_title(capsys):
    report.show(figures(), report.Checks())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip() == "xpsync demo"
    assert lines[1].startswith("┏") or lines[1].startswith("┌")  # the table's top edge
    assert "members" in lines[2] and "20 (2 linked during the run" in lines[2]
    assert not any(set(line) <= set("┡━╇┩│┃ ") and "━" in line for line in lines[2:])  # no header rule


def test_the_summary_says_when_a_check_failed(capsys):
    report.show(figures(), report.Checks(told=3, not_told=1, unsent=2,
                                         role_mismatches=["7: holds [], should hold ['r']"]))
    out = capsys.readouterr().out
    flat = " ".join(out.replace("│", " ").split())  # the table wraps its cells
    assert "2 owed a message and unsent" in flat and "1 member(s) differ" in flat and "role mismatch: 7" in flat
    assert "1 not told (never opened a chat with the bot and no announcing group)" in flat
    assert "Discord direct messages 2 (reviews of what members did on Discord" in flat
    assert "p50 2.0 ms" in out or "p50 4.0 ms" in out
