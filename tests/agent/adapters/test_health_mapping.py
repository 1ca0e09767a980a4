"""Health from the register snapshot: shift close time, FN expiry and backlog, and why degraded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.drivers.interface import DeviceInfo, FnState, FnWarning, RegisterState, ShiftState
from agent.fiscal.service import RegisterSnapshot
from agent.fiscal.shift_guard import ShiftPolicy
from agent.intake.report_mapping import HealthInputs, health_to_contract
from agent.outbox.store import OutboxStats
from agent.outbox.worker import Condition

MSK = ZoneInfo("Europe/Moscow")
CLOCK = datetime(2026, 11, 21, 15, 0, tzinfo=MSK)
OPENED = datetime(2026, 11, 21, 9, 0, tzinfo=MSK)
HOST_NOW = CLOCK.astimezone(UTC)

STATE = RegisterState(
    device_mode=2,
    shift=ShiftState.OPEN,
    shift_number=12,
    is_receipt_open=False,
    is_printing=False,
    has_paper=True,
    is_cover_open=False,
    clock=CLOCK,
    last_fd=40,
)
FN = FnState(
    serial="9999078900012345",
    last_fd=40,
    valid_until=date(2027, 3, 1),
    unsent_docs=7,
    oldest_unsent_at=OPENED,
    warnings=FnWarning(0),
)
SNAPSHOT = RegisterSnapshot(
    info=DeviceInfo(model="ШТРИХ-М-01Ф", serial="12345678", fn_serial=FN.serial),
    state=STATE,
    fn=FN,
    shift_opened_at=OPENED,
)


def _inputs(**changes: object) -> HealthInputs:
    base = HealthInputs(
        version="0.1.0",
        uptime_s=3600.0,
        now=HOST_NOW,
        is_link_up=True,
        snapshot=SNAPSHOT,
        snapshot_at=HOST_NOW,
        condition=None,
        last_error=None,
        outbox=OutboxStats(
            pending=0,
            printing=0,
            done=0,
            rejected=0,
            failed=0,
            unknown=0,
            oldest_pending_age_s=None,
            undelivered=0,
        ),
        sync_pending=0,
        sync_oldest_age_s=None,
        rotate_at=ShiftPolicy().rotate_at,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("max_age", "margin", "closes_after"),
    [
        pytest.param(
            timedelta(hours=23, minutes=30),
            timedelta(minutes=15),
            timedelta(hours=23, minutes=30),
            id="max_age-first",
        ),
        pytest.param(
            timedelta(hours=23, minutes=30),
            timedelta(minutes=45),
            timedelta(hours=23, minutes=15),
            id="margin-first",
        ),
        pytest.param(
            timedelta(hours=24), timedelta(minutes=5), timedelta(hours=23, minutes=55), id="24h"
        ),
        pytest.param(timedelta(hours=12), timedelta(minutes=15), timedelta(hours=12), id="short"),
    ],
)
def test_health_closes_at_is_opened_at_plus_min_of_max_age_and_24h_less_margin(
    max_age: timedelta, margin: timedelta, closes_after: timedelta
) -> None:
    """shift.closes_at = opened_at + min(max_age, 24h - guard_margin), the guard's rotate_at."""
    policy = ShiftPolicy(max_age=max_age, margin=margin)
    health = health_to_contract(_inputs(rotate_at=policy.rotate_at))
    assert health.shift is not None
    assert health.shift.opened_at == OPENED
    assert health.shift.closes_at == OPENED + closes_after
    assert health.shift.age_s == 6 * 3600
    assert health.shift.number == 12


def test_health_fn_shows_expiry_days_left_on_the_register_date_and_the_backlog() -> None:
    """valid_until as read; days_left counted from the register's date; unsent as read."""
    health = health_to_contract(_inputs())
    assert health.fn is not None
    assert health.fn.valid_until == date(2027, 3, 1)
    assert health.fn.days_left == (date(2027, 3, 1) - date(2026, 11, 21)).days
    assert health.fn.unsent_docs == 7
    assert health.fn.oldest_unsent_at == OPENED
    assert health.state == "online"


def test_health_days_left_follows_the_register_date_not_the_host_date() -> None:
    """00:30 in Moscow is still the day before in UTC: days_left counts the register's day."""
    clock = datetime(2026, 11, 22, 0, 30, tzinfo=MSK)
    snap = replace(SNAPSHOT, state=replace(STATE, clock=clock))
    health = health_to_contract(_inputs(snapshot=snap, now=clock.astimezone(UTC)))
    assert health.fn is not None
    assert health.fn.days_left == (date(2027, 3, 1) - date(2026, 11, 22)).days


def test_health_register_unreachable_is_degraded_link_down() -> None:
    """The worker lost the link: degraded, link down, error link_down, last_error kept."""
    lost = Condition(code="link_down", message="no answer", since=HOST_NOW)
    health = health_to_contract(_inputs(is_link_up=False, condition=lost, last_error=lost))
    assert health.state == "degraded"
    assert health.register is not None
    assert health.register.link == "down"
    assert health.register.error == "link_down"
    assert health.last_error is not None
    assert health.last_error.code == "link_down"


def test_health_paper_out_is_read_from_the_register_with_no_failure() -> None:
    """No paper in the snapshot and no failed command: degraded with paper_out."""
    snap = replace(SNAPSHOT, state=replace(STATE, has_paper=False))
    health = health_to_contract(_inputs(snapshot=snap))
    assert health.state == "degraded"
    assert health.register is not None
    assert health.register.link == "up"
    assert health.register.error == "paper_out"


def test_health_expired_fn_is_degraded_fn_failure_before_any_document_fails() -> None:
    """An FN past its expiry refuses every document: fn_failure even while idle."""
    snap = replace(SNAPSHOT, fn=replace(FN, valid_until=date(2026, 11, 20)))
    health = health_to_contract(_inputs(snapshot=snap))
    assert health.state == "degraded"
    assert health.register is not None
    assert health.register.error == "fn_failure"
    assert health.fn is not None
    assert health.fn.days_left == -1


def test_health_fn_on_its_last_day_is_still_online() -> None:
    """The FN works through its expiry date; only the day after is fn_failure."""
    snap = replace(SNAPSHOT, fn=replace(FN, valid_until=CLOCK.date()))
    health = health_to_contract(_inputs(snapshot=snap))
    assert health.state == "online"
    assert health.fn is not None
    assert health.fn.days_left == 0


def test_health_warns_of_a_shift_past_closes_at_before_the_24_hour_limit() -> None:
    """A shift the guard should have closed and did not (a refused Z): degraded, shift_overdue.

    One minute before closes_at all is well; at closes_at and after, while the 24-hour limit
    is still ahead, health says so, with no failed command needed.
    """
    rotate_at = ShiftPolicy().rotate_at
    assert rotate_at < timedelta(hours=24)
    for offset, expected in (
        (timedelta(minutes=-1), None),
        (timedelta(0), "shift_overdue"),
        (timedelta(minutes=5), "shift_overdue"),
    ):
        clock = OPENED + rotate_at + offset
        snap = replace(SNAPSHOT, state=replace(STATE, clock=clock))
        health = health_to_contract(_inputs(snapshot=snap, snapshot_at=clock.astimezone(UTC)))
        assert health.register is not None
        assert health.register.error == expected
        assert health.state == ("online" if expected is None else "degraded")
    closed = replace(SNAPSHOT, state=replace(STATE, shift=ShiftState.CLOSED))
    late = replace(closed, state=replace(closed.state, clock=OPENED + timedelta(hours=30)))
    health = health_to_contract(_inputs(snapshot=late, snapshot_at=late.state.clock))
    assert health.register is not None
    assert health.register.error is None
