"""One rig per protocol for the conformance suite (tests/conformance/).

A rig starts its protocol's simulator as a real process (once per test module), makes a
connected :class:`~agent.drivers.interface.FiscalDriver` on it for each test, and gives the
tests a :class:`RegisterControl`: the simulator's control API in words no protocol owns
(advance the clock, paper out and back, refuse the next operation, cut the power before or
after an operation, read the tape). The tests use nothing else, so every driver passes the
same tests.

Adding a protocol is one class here: subclass :class:`ConformanceRig`, implement its four
methods and its control, say what its register is (the rates it takes, whether it flags an
expired shift, has a paper sensor) in its class attributes, and add it to :data:`RIGS`. ``firmware-sim tape`` is the tape of
every protocol (one state file, one tape command): its JSON lines are the neutral view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final, Protocol

import structlog

from agent.domain.country import AZ, RU
from agent.domain.receipt import VatRate
from agent.drivers.atol.driver import AtolDriver
from agent.drivers.atol.params import AtolParams
from agent.drivers.interface import FiscalDriver
from agent.drivers.shtrih.driver import DEFAULT_TAX_RATE_INDEX, DriverParams, ShtrihDriver
from agent.drivers.smartone.driver import SmartOneDriver
from agent.drivers.smartone.params import SmartOneParams
from agent.transport import Transport, TransportParams
from firmware_sim.state import MSK
from tests.support.atol_sim import AtolSimProcess
from tests.support.processes import SimProcess, Simulator
from tests.support.smartone_sim import CONFIG as SMARTONE_CONFIG
from tests.support.smartone_sim import MERCHANT_ID, SmartOneSimProcess

__all__ = [
    "RIGS",
    "AtolRig",
    "ConformanceRig",
    "Operation",
    "RegisterControl",
    "ShtrihRig",
    "SmartOneRig",
]


class Operation(Enum):
    """What the register does, named for every protocol: what a fault is armed on."""

    RECEIPT = "receipt"  # the step that signs a receipt (Shtrih: FF45 close)
    OPEN_SHIFT = "open_shift"
    CLOSE_SHIFT = "close_shift"
    CASH_IN = "cash_in"
    CASH_OUT = "cash_out"


class RegisterControl(Protocol):
    """The simulator's control API, protocol-neutral. Every call is synchronous and quick."""

    def advance_clock(self, seconds: int) -> None:
        """Move the register's clock (not the host's) by ``seconds``."""
        ...

    def paper_out(self) -> None:
        """Take the paper out."""
        ...

    def paper_back(self) -> None:
        """Load paper again."""
        ...

    def refuse_next(self, operation: Operation) -> None:
        """The register refuses the next such operation with an error, before it runs it."""
        ...

    def power_cut(self, operation: Operation | None = None, *, after: bool = False) -> None:
        """Cut the power now, or at the next ``operation``: before it runs, or ``after`` it
        ran and was stored but before its answer leaves."""
        ...

    def power_back(self) -> None:
        """Power on again; the register is in the state it was left."""
        ...

    def clear_faults(self) -> None:
        """Forget every armed fault (not the paper, not the power)."""
        ...

    def last_fd(self) -> int:
        """The FN's last document number as the simulator knows it."""
        ...

    def tape(self) -> list[dict[str, Any]]:
        """``firmware-sim tape``: every FN document, oldest first, as its JSON object."""
        ...


class ConformanceRig(ABC):
    """One protocol's simulator process, its drivers and its control."""

    protocol: ClassVar[str]
    tax_rate_codes: ClassVar[Mapping[VatRate, int]] = DEFAULT_TAX_RATE_INDEX
    """The tax rows the drivers are configured with (the simulator's default table)."""
    accepted_rates: ClassVar[tuple[VatRate, ...]] = tuple(
        rate for rate in VatRate if RU.accepts(rate)
    )
    """The VAT rates the register takes on a receipt line, in the enum's order (a Russian
    register: every rate of the Russian profile)."""
    rate: ClassVar[VatRate] = VatRate.VAT22
    """The rate of the suite's receipts where a test is not about the rate."""
    tape_rates: ClassVar[Mapping[VatRate, VatRate]] = MappingProxyType({})
    """A rate the register cannot tell from another -> the one its tape names. A register
    that takes a bare percent on a line (SmartOne's ``taxPrc``) keeps 0 % as one rate."""
    flags_expired_shift: ClassVar[bool] = True
    """The register reports a shift past 24 hours as EXPIRED (an FN does)."""
    has_paper_sensor: ClassVar[bool] = True
    """The register reports "no paper" and signs nothing without it."""

    @abstractmethod
    def start(self, workdir: Path) -> None:
        """Start the simulator (a fresh state file in ``workdir``)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the simulator."""

    @abstractmethod
    def make_driver(self) -> FiscalDriver:
        """A new driver for the running simulator, not yet connected."""

    @property
    @abstractmethod
    def control(self) -> RegisterControl:
        """The simulator's control handle."""


# -- Shtrih -------------------------------------------------------------------------------------

SHTRIH_PARAMS: Final = DriverParams(
    tz=MSK,
    enq_timeout_s=0.2,
    ack_timeout_s=0.2,
    answer_timeout_s=1.5,
    print_wait_s=5.0,
    print_poll_interval_s=0.02,
)
"""Short timeouts: a power cut is an AnswerTimeout in a few seconds, not a minute."""

_SHTRIH_COMMANDS: Final = {
    Operation.RECEIPT: "FF45",
    Operation.OPEN_SHIFT: "E0",
    Operation.CLOSE_SHIFT: "41",
    Operation.CASH_IN: "50",
    Operation.CASH_OUT: "51",
}
_SHTRIH_REFUSAL: Final = 0x45  # "the sums do not add up": a refusal of the data, nothing runs


class _SimControl:
    """A simulator's control API (docs/simulator.md) behind the neutral names.

    The two front ends take the same routes; they differ only in how a fault names what it is
    armed on (``on_command`` with a Shtrih command code, ``on_task`` with an ATOL task type)
    and in the code a refusal answers with.
    """

    def __init__(
        self, sim: SimProcess, *, on: str, names: Mapping[Operation, str], refusal: int
    ) -> None:
        self._sim = sim
        self._on = on
        self._names = names
        self._refusal = refusal

    def advance_clock(self, seconds: int) -> None:
        self._sim.post("/clock/advance", {"seconds": seconds})

    def paper_out(self) -> None:
        self._sim.post("/paper/out")

    def paper_back(self) -> None:
        self._sim.post("/paper/back")

    def refuse_next(self, operation: Operation) -> None:
        body = {self._on: self._names[operation], "code": self._refusal, "count": 1}
        self._sim.post("/faults/refuse", body)

    def power_cut(self, operation: Operation | None = None, *, after: bool = False) -> None:
        if operation is None:
            self._sim.post("/power/cut")
        else:
            self._sim.post("/power/cut", {self._on: self._names[operation], "after": after})

    def power_back(self) -> None:
        self._sim.post("/power/back")

    def clear_faults(self) -> None:
        self._sim.post("/faults/clear")

    def last_fd(self) -> int:
        return int(self._sim.state()["last_fd"])

    def tape(self) -> list[dict[str, Any]]:
        return self._sim.tape()


class ShtrihRig(ConformanceRig):
    """``firmware-sim serve --pty``; ShtrihDriver over the pty."""

    protocol = "shtrih"

    def __init__(self) -> None:
        self._sim: Simulator | None = None

    def start(self, workdir: Path) -> None:
        self._sim = Simulator(state_file=workdir / "shtrih.db").start()

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()

    def make_driver(self) -> FiscalDriver:
        assert self._sim is not None
        return ShtrihDriver(
            transport=Transport(params=TransportParams(url=self._sim.url)),
            params=replace(SHTRIH_PARAMS, tax_rate_index=dict(self.tax_rate_codes)),
            log=structlog.get_logger("conformance"),
        )

    @property
    def control(self) -> RegisterControl:
        assert self._sim is not None
        return _SimControl(
            self._sim, on="on_command", names=_SHTRIH_COMMANDS, refusal=_SHTRIH_REFUSAL
        )


# -- ATOL ---------------------------------------------------------------------------------------

ATOL_PARAMS: Final = AtolParams(
    api="v2",
    poll_interval_s=0.02,
    task_timeout_s=3.0,
    read_timeout_s=3.0,
    request_timeout_s=2.0,
    zone=MSK,
)
"""Short timeouts: a task blocked by a power cut is an unknown outcome in seconds."""

_ATOL_TASKS: Final = {
    Operation.RECEIPT: "sell",  # the suite's receipts are sales, refunds and corrections
    Operation.OPEN_SHIFT: "openShift",
    Operation.CLOSE_SHIFT: "closeShift",
    Operation.CASH_IN: "cashIn",
    Operation.CASH_OUT: "cashOut",
}
_ATOL_REFUSAL: Final = 66  # "receipt not fully paid": a refusal of the data, nothing runs


class AtolRig(ConformanceRig):
    """``firmware-sim serve --atol-web``; AtolDriver over its HTTP API (v2)."""

    protocol = "atol"

    def __init__(self) -> None:
        self._sim: AtolSimProcess | None = None

    def start(self, workdir: Path) -> None:
        self._sim = AtolSimProcess(state_file=workdir / "atol.db").start()

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()

    def make_driver(self) -> FiscalDriver:
        assert self._sim is not None
        params = replace(ATOL_PARAMS, url=self._sim.url, tax_rate_codes=dict(self.tax_rate_codes))
        return AtolDriver(params, log=structlog.get_logger("conformance"))

    @property
    def control(self) -> RegisterControl:
        assert self._sim is not None
        return _SimControl(self._sim, on="on_task", names=_ATOL_TASKS, refusal=_ATOL_REFUSAL)


# -- SmartOne -----------------------------------------------------------------------------------

SMARTONE_PARAMS: Final = SmartOneParams(
    merchant_id=MERCHANT_ID,
    read_timeout_s=2.0,
    sale_timeout_s=3.0,
    poll_interval_s=0.02,
    processing_timeout_s=3.0,
    resend_delay_s=0.05,
    zone=SMARTONE_CONFIG.tz,
)
"""Short timeouts: a request lost to a power cut is an unknown outcome in seconds."""

_SMARTONE_ROUTES: Final = {
    Operation.RECEIPT: "sale",  # the suite's receipts signed under a fault are sales
    Operation.OPEN_SHIFT: "open_shift",
    Operation.CLOSE_SHIFT: "close_shift",
    Operation.CASH_IN: "deposit",
    Operation.CASH_OUT: "withdraw",
}
_SMARTONE_REFUSAL: Final = 8  # "not fully paid": a refusal of the data, nothing runs


def _smartone_rates() -> tuple[VatRate, ...]:
    """Azerbaijan's rates, which the simulator's default ``--tax-percents 1800,0`` take."""
    return tuple(rate for rate in VatRate if AZ.accepts(rate))


class SmartOneRig(ConformanceRig):
    """``firmware-sim serve --smartone``; SmartOneDriver over its signed HTTP API.

    The cashbox keeps receipts by request key, not in an FN archive: the driver is a
    :class:`~agent.drivers.interface.FindsReceiptsByRequest`. The simulator's two Z refusals
    (26: an empty shift, 27: cash in the drawer) are switched off: whether a real cashbox
    applies them is unconfirmed (docs/smartone-sim.md "Settings"), and the driver's answers to
    them have tests of their own (tests/agent/drivers/smartone/).
    """

    protocol = "smartone"
    accepted_rates = _smartone_rates()
    tax_rate_codes = MappingProxyType({rate: rate.value for rate in accepted_rates})
    rate = VatRate.VAT0
    tape_rates = MappingProxyType({VatRate.VAT0: VatRate.NONE})  # taxPrc 0 is one row
    flags_expired_shift = False  # the shift stays open; a sale past 24 h answers code 6
    has_paper_sensor = False  # no paper: code 15 after the document is fiscalised

    def __init__(self) -> None:
        self._sim: SmartOneSimProcess | None = None

    def start(self, workdir: Path) -> None:
        self._sim = SmartOneSimProcess(state_file=workdir / "smartone.db").start()
        self._sim.post("/settings", {"refuse_z_with_cash": False, "refuse_empty_z": False})

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()

    def make_driver(self) -> FiscalDriver:
        assert self._sim is not None
        params = replace(
            SMARTONE_PARAMS, url=self._sim.url, tax_rate_codes=dict(self.tax_rate_codes)
        )
        return SmartOneDriver(params, log=structlog.get_logger("conformance"))

    @property
    def control(self) -> RegisterControl:
        assert self._sim is not None
        return _SimControl(
            self._sim, on="on_task", names=_SMARTONE_ROUTES, refusal=_SMARTONE_REFUSAL
        )


RIGS: Final[Mapping[str, type[ConformanceRig]]] = {
    ShtrihRig.protocol: ShtrihRig,
    AtolRig.protocol: AtolRig,
    SmartOneRig.protocol: SmartOneRig,
}
"""Every protocol the conformance suite runs on."""
