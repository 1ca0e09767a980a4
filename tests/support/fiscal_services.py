"""A fiscal service over any driver, as the unit tests of agent/fiscal build it."""

from __future__ import annotations

import structlog

from agent.domain.receipt import Cashier
from agent.drivers.interface import FiscalDriver
from agent.drivers.shtrih.params import DEFAULT_TAX_RATE_INDEX
from agent.fiscal.service import FiscalService
from agent.fiscal.shift_guard import ShiftPolicy

__all__ = ["service_over"]


def service_over(driver: FiscalDriver, *, policy: ShiftPolicy | None = None) -> FiscalService:
    """The service on ``driver`` with the default tax rows and policy (or ``policy``)."""
    return FiscalService(
        driver=driver,
        policy=policy if policy is not None else ShiftPolicy(),
        cashier=Cashier(name="Администратор"),
        tax_rows=DEFAULT_TAX_RATE_INDEX,
        log=structlog.get_logger("test"),
    )
