"""The conformance suite's fixtures: one simulator per protocol and module, a driver per test.

``simulator`` is parametrized by protocol (tests/support/conformance_rigs.py ``RIGS``) and
started once per test module; ``rig`` gives each test a connected driver on it, the neutral
control handle, and a register with no shift open and no fault armed. Tests open and close
their own shifts, so they run in any order on the one process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass

import pytest

from agent.domain.receipt import Cashier, VatRate
from agent.drivers.interface import DeviceInfo, FiscalDriver, ShiftState
from tests.support.conformance_rigs import RIGS, ConformanceRig, RegisterControl

CASHIER = Cashier(name="Петрова", inn="500100732259")


@dataclass(frozen=True, slots=True)
class Rig:
    """What a conformance test gets: the protocol's name, its driver and its control."""

    protocol: str
    driver: FiscalDriver
    control: RegisterControl
    info: DeviceInfo
    tax_rate_codes: Mapping[VatRate, int]


@pytest.fixture(scope="module", params=sorted(RIGS))
def simulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConformanceRig]:
    """The protocol's simulator as a real process, shared by the module's tests."""
    made = RIGS[request.param]()
    made.start(tmp_path_factory.mktemp(f"conformance-{request.param}"))
    try:
        yield made
    finally:
        made.stop()


def _reset(control: RegisterControl) -> None:
    control.clear_faults()
    control.power_back()
    control.paper_back()


@pytest.fixture
async def rig(simulator: ConformanceRig) -> AsyncIterator[Rig]:
    """A connected driver on a register with no shift open, no receipt open, no fault."""
    control = simulator.control
    _reset(control)
    driver = simulator.make_driver()
    try:
        info = await driver.connect()
        state = await driver.read_state()
        if state.is_receipt_open:
            await driver.cancel_receipt()
        if state.shift is not ShiftState.CLOSED:
            await driver.close_shift(CASHIER)
        yield Rig(
            protocol=simulator.protocol,
            driver=driver,
            control=control,
            info=info,
            tax_rate_codes=simulator.tax_rate_codes,
        )
    finally:
        _reset(control)
        await driver.aclose()
