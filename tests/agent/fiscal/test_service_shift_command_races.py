"""Shift commands race the register: someone opened or closed the shift after the service read it.

The service reads the register's state, then sends the command; a person at the register (or
its own automatic open on the first sale) may change the shift in between. "Already open" to
an open and "not open" to a Z are then success, and no second shift document is made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.drivers.interface import DocumentType, ShiftState
from agent.fiscal.reports import ReportKind
from tests.support.fake_fiscal_driver import FN_SERIAL, FakeFiscalDriver
from tests.support.fiscal_services import service_over

MSK = ZoneInfo("Europe/Moscow")
CLOCK = datetime(2031, 3, 4, 12, 0, tzinfo=MSK)


async def test_open_shift_when_the_register_opened_it_meanwhile_is_success() -> None:
    """Closed at the read, open at the command: ShiftAlreadyOpen is an OPEN report, one open FD."""
    driver = FakeFiscalDriver(clock=CLOCK)
    driver.before["open_shift"] = driver.press_open
    report = await service_over(driver).open_shift()
    assert report.kind is ReportKind.OPEN
    assert report.shift == 1
    assert report.fn == FN_SERIAL
    assert report.first_fd == 1
    assert driver.shift is ShiftState.OPEN
    assert driver.kinds() == [DocumentType.OPEN_SHIFT], "a second open-shift document was made"
    assert driver.commands.count("open_shift") == 1


async def test_close_shift_when_the_register_closed_it_meanwhile_is_success() -> None:
    """Open at the read, closed at the Z: ShiftNotOpen is a Z report, one close FD."""
    driver = FakeFiscalDriver(clock=CLOCK)
    driver.press_open(at=CLOCK - timedelta(hours=3))
    driver.before["close_shift"] = driver.press_z
    report = await service_over(driver).close_shift()
    assert report.kind is ReportKind.Z
    assert report.shift == 1
    assert driver.shift is ShiftState.CLOSED
    assert driver.kinds() == [DocumentType.OPEN_SHIFT, DocumentType.CLOSE_SHIFT]
    assert driver.commands.count("close_shift") == 1


async def test_receipt_guard_takes_a_shift_opened_meanwhile() -> None:
    """The guard saw no shift, the register opened one before 0xE0: the receipt goes into it."""
    driver = FakeFiscalDriver(clock=CLOCK)
    driver.before["open_shift"] = driver.press_open
    ticket = await service_over(driver).prepare_receipt()
    assert ticket.fn_serial == FN_SERIAL
    assert ticket.last_fd == 1
    assert driver.kinds() == [DocumentType.OPEN_SHIFT]
