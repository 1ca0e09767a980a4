"""The shift guard's quiet hour and margin are read on the register's clock and zone, not the host's.

A register in Moscow (UTC+3) on a host that keeps UTC: 05:00 is a different moment for each.
The driver hands the service the register's clock as an aware datetime in ``[register] tz``;
the guard must take the quiet hour's wall time in that zone and count the 24 hours from the
open-shift document on that clock, never the host's.
"""

from __future__ import annotations

import os
import time as host_time
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.drivers.interface import DocumentType, ShiftState
from agent.fiscal.shift_guard import GuardAction, ShiftPolicy, decide
from tests.support.fake_fiscal_driver import FakeFiscalDriver
from tests.support.fiscal_services import service_over

MSK = ZoneInfo("Europe/Moscow")  # UTC+3 all year
QUIET = ShiftPolicy(quiet_hour=time(5, 0))


def _both_zones(
    opened_at: datetime, clock: datetime, policy: ShiftPolicy
) -> tuple[GuardAction, GuardAction]:
    """The guard's decision on the register's zone, and on the same instants in UTC."""
    register = decide(shift=ShiftState.OPEN, opened_at=opened_at, clock=clock, policy=policy)
    host = decide(
        shift=ShiftState.OPEN,
        opened_at=opened_at.astimezone(UTC),
        clock=clock.astimezone(UTC),
        policy=policy,
    )
    return register, host


def test_guard_rotates_at_the_register_quiet_hour_before_the_host_reaches_it() -> None:
    """05:30 in Moscow is 02:30 UTC: the register's 05:00 has passed, so the guard rotates."""
    opened = datetime(2026, 1, 5, 1, 0, tzinfo=MSK)  # 22:00 UTC the day before
    clock = datetime(2026, 1, 5, 5, 30, tzinfo=MSK)
    register, host = _both_zones(opened, clock, QUIET)
    assert register is GuardAction.ROTATE
    assert host is GuardAction.NONE, "the case does not separate the two zones"


def test_guard_ignores_the_host_quiet_hour_the_register_has_not_reached() -> None:
    """08:30 in Moscow is 05:30 UTC: the host passed 05:00 since the open, the register did not."""
    opened = datetime(2026, 1, 5, 6, 0, tzinfo=MSK)  # 03:00 UTC
    clock = datetime(2026, 1, 5, 8, 30, tzinfo=MSK)
    register, host = _both_zones(opened, clock, QUIET)
    assert register is GuardAction.NONE
    assert host is GuardAction.ROTATE, "the case does not separate the two zones"


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(hours=23, minutes=44), GuardAction.NONE),
        (timedelta(hours=23, minutes=45), GuardAction.ROTATE),
    ],
)
def test_guard_margin_counts_from_the_open_document_on_the_register_clock(
    age: timedelta, expected: GuardAction
) -> None:
    """max_age 24h, margin 15m: a shift opened at 23:00 MSK rotates at 22:45 MSK the next day."""
    policy = ShiftPolicy(max_age=timedelta(hours=24), margin=timedelta(minutes=15))
    opened = datetime(2026, 1, 5, 23, 0, tzinfo=MSK)  # crosses midnight in both zones
    register, host = _both_zones(opened, opened + age, policy)
    assert register is expected
    assert host is expected, "the 24 hours are a duration, the same in every zone"


@pytest.fixture
def host_in_utc() -> Iterator[None]:
    """The test process keeps UTC (TZ=UTC), as the agent's host would."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    host_time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    host_time.tzset()


@pytest.mark.usefixtures("host_in_utc")
async def test_service_rotates_at_the_quiet_hour_of_the_register_clock() -> None:
    """Through the service: the register's clock (years off the host's) decides; Z, then open."""
    driver = FakeFiscalDriver(clock=datetime(2031, 6, 2, 5, 30, tzinfo=MSK))
    driver.press_open(at=datetime(2031, 6, 2, 1, 0, tzinfo=MSK))
    await service_over(driver, policy=QUIET).prepare_receipt()
    assert driver.kinds() == [
        DocumentType.OPEN_SHIFT,
        DocumentType.CLOSE_SHIFT,
        DocumentType.OPEN_SHIFT,
    ]


@pytest.mark.usefixtures("host_in_utc")
async def test_service_leaves_the_shift_when_only_the_host_passed_the_quiet_hour() -> None:
    """08:30 on the register (05:30 on the host): the shift opened at 06:00 is left alone."""
    driver = FakeFiscalDriver(clock=datetime(2031, 6, 2, 8, 30, tzinfo=MSK))
    driver.press_open(at=datetime(2031, 6, 2, 6, 0, tzinfo=MSK))
    await service_over(driver, policy=QUIET).prepare_receipt()
    assert driver.kinds() == [DocumentType.OPEN_SHIFT]


@pytest.mark.usefixtures("host_in_utc")
async def test_service_rotates_within_the_margin_on_the_register_clock() -> None:
    """A shift 23h50m old on the register's clock (whatever the host's says) is rotated."""
    opened = datetime(2031, 6, 1, 23, 0, tzinfo=MSK)
    driver = FakeFiscalDriver(clock=opened + timedelta(hours=23, minutes=50))
    driver.press_open(at=opened)
    policy = ShiftPolicy(max_age=timedelta(hours=24), margin=timedelta(minutes=15))
    await service_over(driver, policy=policy).prepare_receipt()
    assert driver.kinds()[-2:] == [DocumentType.CLOSE_SHIFT, DocumentType.OPEN_SHIFT]
