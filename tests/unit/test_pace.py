"""The pace's arithmetic: settings read as gaps between calls, platform waits bounded to a day. The
slots themselves are reserved in the database (tests/sql/test_pace.py)."""

from __future__ import annotations

import math

import pytest

from xpsync.listener.pace import MAX_WAIT, Deferred, Limit, Pace, bounded, gap, number


@pytest.mark.parametrize(("setting", "expected"), [
    (25, 0.04), ("4", 0.25), (0.9, 1 / 0.9), (0, 0.0), (-3, 0.0), ("fast", 1 / 45), (None, 1 / 45),
    (math.inf, 1 / 45), (math.nan, 1 / 45),
])
def test_a_rate_setting_is_a_gap_between_calls(setting, expected):
    assert gap(setting, 45) == pytest.approx(expected)


def test_a_setting_that_is_no_number_is_the_default():
    assert number("1.5", 1) == 1.5 and number([], 1) == 1 and number(None, 2) == 2


@pytest.mark.parametrize(("asked", "honoured"), [
    (64.57, 64.57), (0, 0.0), (-5, 0.0), (None, 0.0), (math.nan, 0.0), (200_000, MAX_WAIT), (math.inf, MAX_WAIT),
])
def test_a_platforms_wait_is_honoured_up_to_a_day(asked, honoured):
    assert bounded(asked) == honoured


async def test_lifted_limits_cost_no_database_round_trip():
    pace = Pace(pool=None)  # type: ignore[arg-type]  # never touched
    await pace.slot([Limit("telegram", 0.0), Limit("telegram:1", 0.0)], within=5)


async def test_a_lease_with_no_time_left_is_deferred_at_once():
    with pytest.raises(Deferred) as deferred:
        await Pace(pool=None).slot([Limit("telegram", 0.04)], within=-0.5)  # type: ignore[arg-type]
    assert deferred.value.retry_after == 0.0
