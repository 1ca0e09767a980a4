"""A device that keeps receipts by request (SmartOne) has no archive by FD: no tape walk.

After a Z the agent reads the shift's documents back to find those it did not print. Such a
device's driver cannot read a document by FD (every read is "not found"), and its Z names a
number, not an FD range, so the walk would only log one warning per number. The service
returns an empty tape instead and reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.drivers.interface import FindsReceiptsByRequest, FiscalDocument, ReceiptRef
from tests.support.fake_fiscal_driver import FN_SERIAL, FakeFiscalDriver
from tests.support.fiscal_services import service_over

BAKU = ZoneInfo("Asia/Baku")
CLOCK = datetime(2031, 3, 4, 23, 40, tzinfo=BAKU)


@dataclass
class KeyedByRequest(FakeFiscalDriver):
    """The fake register, answering "what became of request X" as a SmartOne does."""

    async def find_receipt(self, ref: ReceiptRef) -> FiscalDocument | None:
        del ref
        self._run("find_receipt")
        return None


async def test_tape_after_a_z_is_empty_and_reads_no_document() -> None:
    """The Z's report names the shift; the tape is empty and no FD is read."""
    driver = KeyedByRequest(clock=CLOCK)
    assert isinstance(driver, FindsReceiptsByRequest)
    driver.press_open(at=CLOCK - timedelta(hours=3))
    service = service_over(driver)
    z = await service.close_shift()
    tape = await service.documents_of_shift(z)
    assert (tape.fn, tape.shift, tape.documents, tape.unreadable) == (FN_SERIAL, z.shift, (), ())
    assert "find_document" not in driver.commands


async def test_tape_of_the_current_shift_is_empty_too() -> None:
    """Without a report: the current shift's number, nothing read."""
    driver = KeyedByRequest(clock=CLOCK)
    driver.press_open(at=CLOCK - timedelta(hours=1))
    service = service_over(driver)
    await service.connect()
    tape = await service.documents_of_shift()
    assert (tape.shift, tape.documents) == (1, ())
    assert "find_document" not in driver.commands


async def test_a_register_with_an_archive_still_walks_it() -> None:
    """The plain fake register (no find_receipt): the Z's range is read back as before."""
    driver = FakeFiscalDriver(clock=CLOCK)
    assert not isinstance(driver, FindsReceiptsByRequest)
    driver.press_open(at=CLOCK - timedelta(hours=3))
    service = service_over(driver)
    z = await service.close_shift()
    tape = await service.documents_of_shift(z)
    assert len(tape.documents) == 2  # the open-shift and the Z documents
    assert "find_document" in driver.commands
