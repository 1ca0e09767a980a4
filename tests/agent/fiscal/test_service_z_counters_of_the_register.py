"""A Z's counters: the register's own, when its close command reports them; else read before.

A SmartOne cashbox refuses a Z while the drawer holds cash; with ``withdraw_before_z`` its
driver collects the drawer (a cash out) inside ``close_shift`` and reports the counters of the
``/close_shift`` reply. The counters the service read before the Z cannot count that cash out,
so the report takes the driver's when it gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.domain.money import Kopecks
from agent.domain.receipt import Cashier
from agent.drivers.interface import ShiftDocument
from agent.fiscal.reports import ReportKind
from tests.support.fake_fiscal_driver import FakeFiscalDriver
from tests.support.fiscal_services import service_over

BAKU = ZoneInfo("Asia/Baku")
CLOCK = datetime(2031, 3, 4, 23, 40, tzinfo=BAKU)


@dataclass
class CollectingDriver(FakeFiscalDriver):
    """Collects 25.00 from the drawer inside its Z and reports the Z's counters."""

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        z = await super().close_shift(cashier)
        before = await self.read_counters()
        counters = replace(before, cash_out=Kopecks(2500), cash_in_drawer=Kopecks(0))
        return replace(z, counters=counters)


async def test_z_report_takes_the_counters_the_register_reported_with_the_z() -> None:
    """The driver's Z counters (with its cash out) are the report's, not the reading before."""
    driver = CollectingDriver(clock=CLOCK)
    driver.press_open(at=CLOCK - timedelta(hours=23, minutes=40))
    report = await service_over(driver).close_shift()
    assert report.kind is ReportKind.Z
    assert report.counters is not None
    assert (report.counters.cash_out, report.counters.cash_in_drawer) == (2500, 0)


async def test_z_report_without_register_counters_keeps_the_reading_before() -> None:
    """A driver that reports none: the counters read before the Z stand."""
    driver = FakeFiscalDriver(clock=CLOCK)
    driver.press_open(at=CLOCK - timedelta(hours=3))
    report = await service_over(driver).close_shift()
    assert report.counters is not None
    assert report.counters.cash_out == 0
    assert driver.commands.index("read_counters") < driver.commands.index("close_shift")
