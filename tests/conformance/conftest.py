"""The conformance suite's fixtures: one simulator per protocol and module, a driver per test.

``simulator`` is parametrized by protocol (tests/support/conformance_rigs.py ``RIGS``) and
started once per test module; ``rig`` gives each test a connected driver on it, the neutral
control handle, and a register with no shift open and no fault armed. Tests open and close
their own shifts, so they run in any order on the one process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from agent.domain.receipt import Cashier, VatRate
from agent.drivers.interface import (
    DeviceInfo,
    FindsReceiptsByRequest,
    FiscalDocument,
    FiscalDriver,
    ReceiptRef,
    ShiftState,
)
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
    accepted_rates: tuple[VatRate, ...]
    """The rates the register takes on a line (tests/support/conformance_rigs.py)."""
    rate: VatRate
    """The rate of receipts whose test is not about the rate."""
    tape_rates: Mapping[VatRate, VatRate]
    flags_expired_shift: bool
    """The register reports a shift older than 24 hours as EXPIRED itself."""
    has_paper_sensor: bool
    """The register says when it has no paper and refuses to sign without it."""
    new_driver: Callable[[], FiscalDriver]
    """Another driver on the same simulator, not yet connected: an agent started afresh."""

    @property
    def has_fd_archive(self) -> bool:
        """The register numbers its documents (FD) and reads them back by number.

        False for a device that keeps receipts by request key instead
        (:class:`~agent.drivers.interface.FindsReceiptsByRequest`, SmartOne): its FD is no
        sequence, so FD arithmetic proves nothing there.
        """
        return not isinstance(self.driver, FindsReceiptsByRequest)


async def recovered(
    rig: Rig, ref: ReceiptRef, fd: int, *, driver: FiscalDriver | None = None
) -> FiscalDocument:
    """The whole document the register keeps for receipt ``ref`` issued as FD ``fd``.

    By the request key where the device keeps receipts by it (``find_receipt``), else read
    back from the FN by its FD. Either way it is whole and carries the request's mark.
    ``driver``: another driver than the rig's (one that did not send the receipt).
    """
    reader = rig.driver if driver is None else driver
    if isinstance(reader, FindsReceiptsByRequest):
        document = await reader.find_receipt(ref)
        assert document is not None, f"the register has no receipt for request {ref.id!r}"
    else:
        document = await reader.read_document(fd)
    assert document.is_whole
    assert document.mark == ref.mark
    return document


def marked(rig: Rig, mark: str) -> list[str]:
    """Every mark on the tape equal to ``mark``: one per document signed for it."""
    return [e["mark"] for e in rig.control.tape() if e.get("mark") == mark]


def tape_entry(rig: Rig, mark: str, fd: int) -> dict[str, Any]:
    """The one tape entry that carries ``mark``; on an FD archive, the one at ``fd`` too."""
    tape = rig.control.tape()
    (entry,) = [e for e in tape if e.get("mark") == mark]
    if rig.has_fd_archive:
        assert [e for e in tape if e["fd"] == fd] == [entry]
    return entry


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
            accepted_rates=simulator.accepted_rates,
            rate=simulator.rate,
            tape_rates=simulator.tape_rates,
            flags_expired_shift=simulator.flags_expired_shift,
            has_paper_sensor=simulator.has_paper_sensor,
            new_driver=simulator.make_driver,
        )
    finally:
        _reset(control)
        await driver.aclose()
