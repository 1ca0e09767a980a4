"""The service's VAT check where the register has no table to read (ATOL names each rate).

A driver reporting ``is_read_from_register=False`` gives its own mapping: checking it would
prove nothing, so the service logs that the check does not apply (never that it passed), and
prints; a setup read from the register is still checked, and a wrong one still stops.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import structlog
import structlog.testing

from agent.drivers.interface import TaxSetup
from agent.fiscal.errors import TaxSetupMismatch
from tests.support.fake_fiscal_driver import DEFAULT_TAX_SETUP, FakeFiscalDriver
from tests.support.fiscal_services import service_over

CLOCK = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))


async def test_no_table_to_read_is_logged_as_not_applicable() -> None:
    driver = FakeFiscalDriver(
        clock=CLOCK, tax_setup=replace(DEFAULT_TAX_SETUP, is_read_from_register=False)
    )
    service = service_over(driver)
    await service.connect()
    with structlog.testing.capture_logs() as logs:
        await service.prepare_receipt()
    events = [entry["event"] for entry in logs]
    assert "tax_setup_not_applicable" in events
    assert "tax_setup_mismatch" not in events
    assert await service.prepare_next_receipt() is not None  # the link needs no other check


async def test_a_table_read_from_the_register_is_still_checked() -> None:
    wrong = TaxSetup(computes_vat=False, rows=DEFAULT_TAX_SETUP.rows)
    driver = FakeFiscalDriver(clock=CLOCK, tax_setup=wrong)
    service = service_over(driver)
    await service.connect()
    with pytest.raises(TaxSetupMismatch):
        await service.prepare_receipt()
