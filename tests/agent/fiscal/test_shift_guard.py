"""The 24-hour shift guard's decisions, on the register's clock."""

from datetime import UTC, datetime, time, timedelta

import pytest

from agent.drivers.interface import ShiftState
from agent.fiscal.shift_guard import GuardAction, ShiftPolicy, decide

CLOCK = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = ShiftPolicy(max_age=timedelta(hours=23, minutes=30))


def _age(hours: float, minutes: float = 0) -> datetime:
    return CLOCK - timedelta(hours=hours, minutes=minutes)


def test_guard_opens_a_closed_shift() -> None:
    """No shift: the guard opens one."""
    assert decide(shift=ShiftState.CLOSED, opened_at=None, clock=CLOCK, policy=POLICY) is (
        GuardAction.OPEN
    )


def test_guard_leaves_a_young_shift_alone() -> None:
    """A shift younger than max_age needs nothing."""
    action = decide(shift=ShiftState.OPEN, opened_at=_age(10), clock=CLOCK, policy=POLICY)
    assert action is GuardAction.NONE


@pytest.mark.parametrize(("hours", "minutes"), [(23, 30), (23, 59), (23, 31)])
def test_guard_rotates_at_max_age(hours: int, minutes: int) -> None:
    """A shift at or past max_age (23h30m by default) is closed and reopened."""
    action = decide(
        shift=ShiftState.OPEN, opened_at=_age(hours, minutes), clock=CLOCK, policy=POLICY
    )
    assert action is GuardAction.ROTATE


def test_guard_keeps_a_margin_before_24h_even_with_max_age_24h() -> None:
    """With max_age = 24h no receipt starts in the last minutes before the hard limit."""
    policy = ShiftPolicy(max_age=timedelta(hours=24), margin=timedelta(minutes=5))
    action = decide(shift=ShiftState.OPEN, opened_at=_age(23, 57), clock=CLOCK, policy=policy)
    assert action is GuardAction.ROTATE
    action = decide(shift=ShiftState.OPEN, opened_at=_age(23, 50), clock=CLOCK, policy=policy)
    assert action is GuardAction.NONE


def test_guard_recovers_an_expired_shift() -> None:
    """A register locked by a shift older than 24 h is recovered (Z, then open)."""
    action = decide(shift=ShiftState.EXPIRED, opened_at=_age(30), clock=CLOCK, policy=POLICY)
    assert action is GuardAction.RECOVER


def test_guard_rotates_after_the_quiet_hour() -> None:
    """A shift opened before the quiet hour is rotated once the quiet hour has passed."""
    policy = ShiftPolicy(quiet_hour=time(6, 0))
    opened = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    before = datetime(2026, 11, 21, 5, 59, tzinfo=UTC)
    after = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert decide(shift=ShiftState.OPEN, opened_at=opened, clock=before, policy=policy) is (
        GuardAction.NONE
    )
    assert decide(shift=ShiftState.OPEN, opened_at=opened, clock=after, policy=policy) is (
        GuardAction.ROTATE
    )


def test_guard_does_not_rotate_a_shift_opened_after_the_quiet_hour() -> None:
    """A shift opened after today's quiet hour runs until tomorrow's."""
    policy = ShiftPolicy(quiet_hour=time(6, 0))
    opened = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    clock = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert decide(shift=ShiftState.OPEN, opened_at=opened, clock=clock, policy=policy) is (
        GuardAction.NONE
    )


def test_guard_does_not_rotate_a_fresh_shift_at_the_quiet_hour() -> None:
    """A shift opened minutes before the quiet hour is not closed right away."""
    policy = ShiftPolicy(quiet_hour=time(6, 0))
    opened = datetime(2026, 11, 21, 5, 50, tzinfo=UTC)
    clock = datetime(2026, 11, 21, 6, 5, tzinfo=UTC)
    assert decide(shift=ShiftState.OPEN, opened_at=opened, clock=clock, policy=policy) is (
        GuardAction.NONE
    )


def test_guard_without_the_open_time_relies_on_the_register_lock() -> None:
    """When the open-shift document cannot be read, only EXPIRED triggers a Z."""
    assert decide(shift=ShiftState.OPEN, opened_at=None, clock=CLOCK, policy=POLICY) is (
        GuardAction.NONE
    )


@pytest.mark.parametrize("max_age", [timedelta(0), timedelta(hours=25)])
def test_policy_refuses_an_impossible_max_age(max_age: timedelta) -> None:
    """max_age must be within (0, 24h]."""
    with pytest.raises(ValueError, match="max_age"):
        ShiftPolicy(max_age=max_age)
