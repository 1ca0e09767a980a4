"""Where the guard's thresholds sit: rotate at min(max_age, 24h - margin); quiet hour after 1 h.

These pin agent/fiscal/shift_guard.py as written (and as README.md describes the margin: "never
starts a receipt within shift.guard_margin of 24 hours"), so that a change of rule is a
deliberate one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.drivers.interface import ShiftState
from agent.fiscal.shift_guard import GuardAction, ShiftPolicy, decide

MSK = ZoneInfo("Europe/Moscow")
CLOCK = datetime(2026, 11, 21, 12, 0, tzinfo=MSK)


def _decide(age: timedelta, policy: ShiftPolicy) -> GuardAction:
    return decide(shift=ShiftState.OPEN, opened_at=CLOCK - age, clock=CLOCK, policy=policy)


@pytest.mark.parametrize(
    ("max_age", "margin", "rotate_at"),
    [
        (timedelta(hours=23, minutes=30), timedelta(minutes=15), timedelta(hours=23, minutes=30)),
        (timedelta(hours=23, minutes=30), timedelta(minutes=45), timedelta(hours=23, minutes=15)),
        (timedelta(hours=20), timedelta(hours=2), timedelta(hours=20)),
    ],
)
def test_guard_rotates_at_max_age_or_24h_less_the_margin_whichever_is_first(
    max_age: timedelta, margin: timedelta, rotate_at: timedelta
) -> None:
    """The margin counts back from the 24-hour limit, not from max_age."""
    policy = ShiftPolicy(max_age=max_age, margin=margin)
    assert policy.rotate_at == rotate_at
    assert _decide(rotate_at - timedelta(seconds=1), policy) is GuardAction.NONE
    assert _decide(rotate_at, policy) is GuardAction.ROTATE


def test_guard_quiet_hour_needs_a_shift_an_hour_old_not_guard_margin_old() -> None:
    """At the quiet hour a 30-minute shift stays (older than the 15 m margin, younger than 1 h)."""
    policy = ShiftPolicy(quiet_hour=time(11, 45), margin=timedelta(minutes=15))
    assert _decide(timedelta(minutes=30), policy) is GuardAction.NONE
    assert _decide(timedelta(minutes=59), policy) is GuardAction.NONE
    assert _decide(timedelta(hours=1), policy) is GuardAction.ROTATE
