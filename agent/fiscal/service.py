"""The fiscal service: receipts, shifts, the 24-hour guard and crash recovery.

Written against :class:`agent.drivers.interface.FiscalDriver` only; it knows nothing of the
wire protocol, SQLite or MQTT. It is not re-entrant: the worker owns it and runs one
operation at a time per register (see ``agent.outbox.worker``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.drivers.errors import (
    DeviceError,
    EmptyShiftRefused,
    ProtocolError,
    ShiftAlreadyOpen,
    ShiftNotOpen,
)
from agent.drivers.interface import (
    CalculationStateReport,
    CashMovement,
    DeviceInfo,
    FindsReceiptsByRequest,
    FiscalDocument,
    FiscalDriver,
    FnState,
    IssuedReceipt,
    LedgerState,
    ReceiptRef,
    RegisterState,
    ShiftState,
    ShiftView,
)
from agent.fiscal import recovery, shift_guard, tape
from agent.fiscal.errors import RegisterBusyElsewhere, ShiftGuardError, TaxSetupMismatch
from agent.fiscal.reports import ReportKind, ShiftChange, ShiftChangeSource, ShiftReportData
from agent.fiscal.resolution import ReceiptResolver

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from collections.abc import Set as AbstractSet

    import structlog

    from agent.domain.money import Kopecks
    from agent.domain.receipt import Cashier, Receipt, VatRate

__all__ = [
    "FiscalService",
    "PrintTicket",
    "RegisterSnapshot",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintTicket:
    """The register is ready for a receipt; the outbox records this before sending it."""

    fn_serial: str
    last_fd: int
    cash_in_drawer: Kopecks | None  # read only for a cash movement
    clock: datetime | None = None  # the register's clock when the ticket was read
    shift_opened_at: datetime | None = None  # the open shift's open document, register clock


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterSnapshot:
    """Everything health needs to know about the register, read in one go."""

    info: DeviceInfo
    state: RegisterState
    fn: FnState
    shift_opened_at: datetime | None


class FiscalService:
    """Receipts, shifts, cash and recovery on one register."""

    def __init__(
        self,
        *,
        driver: FiscalDriver,
        policy: shift_guard.ShiftPolicy,
        cashier: Cashier,
        tax_rows: Mapping[VatRate, int],
        log: structlog.typing.FilteringBoundLogger,
        on_report: Callable[[ShiftReportData], None] | None = None,
        shift_change: ShiftChangeSource | None = None,
    ) -> None:
        """``tax_rows`` is the tax-table row the driver sends for each VAT rate (the config).

        ``shift_change`` tells a report the change given in its shift (the register keeps no
        total of it); without it reports carry none.
        """
        self._driver = driver
        self._tax_rows = tax_rows
        self._is_tax_checked = False
        self._empty_shift: int | None = None  # a shift whose Z was refused as empty
        self._policy = policy
        self._cashier = cashier
        self._log = log
        self._on_report = on_report
        self._shift_change = shift_change
        self._info: DeviceInfo | None = None

    @property
    def policy(self) -> shift_guard.ShiftPolicy:
        """The shift guard's policy."""
        return self._policy

    async def close(self) -> None:
        """Close the link to the register."""
        await self._driver.aclose()

    @property
    def info(self) -> DeviceInfo | None:
        """What the register said it is at the last connect, if connected once."""
        return self._info

    async def connect(self) -> DeviceInfo:
        """(Re)open the link and identify the register.

        The register's VAT setup is checked again before the first receipt on this link
        (:meth:`prepare_receipt`): it costs a round trip per tax-table field, so a link that
        drops and comes back many times does not pay it each time nothing prints.
        """
        await self._driver.aclose()
        self._info = await self._driver.connect()
        self._is_tax_checked = False
        self._log.info(
            "register_connected",
            model=self._info.model,
            serial=self._info.serial,
            fn=self._info.fn_serial,
        )
        return self._info

    async def _check_tax_setup(self) -> None:
        """Raise :class:`TaxSetupMismatch` when the register would sign wrong VAT.

        It does not compute VAT itself (tax mode 1), or a tax row the config names holds
        another rate, or its tax setup cannot be read. Checked once per link. A driver with
        no table to read (``is_read_from_register`` False: ATOL) is logged as "not
        applicable", never as checked.
        """
        if self._is_tax_checked:
            return
        try:
            setup = await self._driver.read_tax_setup()
        except (ProtocolError, DeviceError) as exc:
            problem = f"the register's tax mode and table could not be read ({exc})"
            raise TaxSetupMismatch((problem,)) from exc
        if not setup.is_read_from_register:  # e.g. ATOL: each line names its rate
            self._log.info(
                "tax_setup_not_applicable",
                reason="the register takes each line's VAT rate by name; no table to check",
            )
            self._is_tax_checked = True
            return
        problems = setup.mismatches(self._tax_rows)
        if problems:
            self._log.error("tax_setup_mismatch", problems=list(problems))
            raise TaxSetupMismatch(problems)
        self._is_tax_checked = True

    # -- receipts ---------------------------------------------------------------------------

    async def prepare_receipt(self, *, with_drawer: bool = False) -> PrintTicket:
        """Bring the register to a state where a receipt can start; return the intent's base.

        Checks the register's VAT setup (once per link), reads the ledger (the FN's last FD,
        fresh, and its shift) and asks the shift guard.
        In steady state that is all: one round trip. A receipt left open is cancelled, and a
        shift that must be opened, rotated (before ``max_age`` or at the quiet hour) or
        recovered from the 24-hour lock, or whose age cannot be told (its open document could
        not be read), is handled on a full reading of the register.
        ``with_drawer`` also reads the drawer's balance (a cash movement's intent). The ticket
        carries the register's clock and the open shift's open time: what decides whether a
        late payment's receipt is a correction (:mod:`agent.domain.late`).
        """
        await self._require_info()
        await self._check_tax_setup()
        ledger = await self._driver.read_ledger()
        last_fd, fn_serial = ledger.last_fd, ledger.fn_serial
        is_steady, opened_at = await self._steady(ledger)
        if not is_steady:
            state = await self._driver.read_state()
            if state.is_receipt_open:
                self._log.warning("open_receipt_cancelled", reason="left open before a new receipt")
                await self._driver.cancel_receipt()
                state = await self._driver.read_state()
                if state.is_receipt_open:
                    raise RegisterBusyElsewhere
            guarded = await self._guard(state)
            if guarded.shift_number != state.shift_number or guarded.last_fd != state.last_fd:
                opened_at = await self._opened_at(guarded)  # the guard opened a new shift
            state = guarded
            last_fd = state.last_fd
        drawer = await self._driver.read_cash_drawer() if with_drawer else None
        return PrintTicket(
            fn_serial=fn_serial,
            last_fd=last_fd,
            cash_in_drawer=drawer,
            clock=ledger.clock,
            shift_opened_at=opened_at,
        )

    async def prepare_next_receipt(self) -> PrintTicket | None:
        """:meth:`prepare_receipt` for a receipt that follows another at once, steady state only.

        One round trip: the ledger (the FN's last FD, fresh). None, having changed nothing on
        the register, when it needs more than that (the VAT check of a new link, a receipt
        left open, the shift guard, a shift whose age cannot be told): then the caller stores
        what it holds and calls :meth:`prepare_receipt`. Like :meth:`prepare_receipt`'s, the
        ticket carries the register's clock and the open shift's open time (the late decision).
        """
        if self._info is None or not self._is_tax_checked:
            return None
        ledger = await self._driver.read_ledger()
        is_steady, opened_at = await self._steady(ledger)
        if not is_steady:
            return None
        return PrintTicket(
            fn_serial=ledger.fn_serial,
            last_fd=ledger.last_fd,
            cash_in_drawer=None,
            clock=ledger.clock,
            shift_opened_at=opened_at,
        )

    async def _steady(self, ledger: LedgerState) -> tuple[bool, datetime | None]:
        """Whether the ledger is steady, and the open shift's open time.

        Steady: no receipt is open, the shift's age is known and the guard has nothing to do.
        The open time is None when the shift is closed or its open document unreadable.
        """
        opened_at = await self._opened_at(ledger)
        is_age_unknown = ledger.shift is not ShiftState.CLOSED and opened_at is None
        is_steady = not (
            ledger.is_receipt_open or is_age_unknown or self._guard_action(ledger, opened_at)
        )
        return is_steady, opened_at

    async def issue(self, receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        """Print and sign the receipt carrying ``ref.mark``. Call :meth:`prepare_receipt` first."""
        issued = await self._driver.register(receipt, ref=ref)
        self._empty_shift = None  # the shift has a sale now: its Z can come
        return issued

    async def resolve(
        self, intent: recovery.Intent, *, ref: ReceiptRef
    ) -> IssuedReceipt | recovery.Reprint | recovery.Unknown:
        """Ask the register what became of a receipt that was being printed.

        :class:`agent.fiscal.resolution.ReceiptResolver` does it: settle the request, read
        the documents after the intent's FD back whole (or ask a device that keeps receipts
        by the request's key) and let :mod:`agent.fiscal.recovery` judge by the mark. A driver
        error other than a missing document propagates: the caller retries, and prints
        nothing else meanwhile.
        """
        resolver = ReceiptResolver(
            driver=self._driver, log=self._log, shift_open_document=self._shift_open_document
        )
        return await resolver.resolve(intent, ref=ref)

    async def read_document(self, fd: int) -> FiscalDocument:
        """The whole document with this FD, read back from the FN (a person's check)."""
        return await self._driver.read_document(fd)

    async def documents_of_shift(
        self, report: ShiftReportData | None = None, *, skip: AbstractSet[int] = frozenset()
    ) -> tape.ShiftTape:
        """The shift's FN documents read back, one read per document (``evt/document``).

        With ``report`` (a Z just made, say), its shift from ``first_fd`` to ``last_fd``.
        Without, the current shift from its open-shift document to the FN's last FD (the last
        shift and what follows it when none is open). ``skip`` holds FDs of this FN not to
        read (the agent's own receipts: the caller knows them already). Filter what comes
        back with :func:`agent.fiscal.tape.foreign_documents`. A device that keeps receipts by
        request (:class:`FindsReceiptsByRequest`) has no archive by FD: its tape is empty.
        """
        info = await self._require_info()
        if isinstance(self._driver, FindsReceiptsByRequest):
            # No FN archive to read back by FD (SmartOne): walking the report's range would
            # only log one "not found" per number. Nothing is read; nothing is foreign.
            shift = (
                report.shift
                if report is not None
                else (await self._driver.read_state()).shift_number
            )
            self._log.info("shift_tape_not_readable", shift=shift)
            return tape.ShiftTape(
                fn=info.fn_serial, shift=shift, first_fd=None, last_fd=0, documents=()
            )
        if report is not None:
            fn, shift, first_fd, last_fd = report.fn, report.shift, report.first_fd, report.last_fd
        else:
            ledger = await self._driver.read_ledger()
            fn, shift, last_fd = ledger.fn_serial, ledger.shift_number, ledger.last_fd
            open_doc = await self._shift_open_document(ledger)
            first_fd = open_doc.fd if open_doc else None
        if fn != info.fn_serial:
            self._log.warning("fn_changed_since_connect", fn=fn, connected_fn=info.fn_serial)
        documents = await tape.read_shift_tape(
            self._driver,
            fn=fn,
            shift=shift,
            first_fd=first_fd,
            last_fd=last_fd,
            skip=skip,
            log=self._log,
        )
        self._log.info(
            "shift_tape_read",
            shift=shift,
            first_fd=documents.first_fd,
            last_fd=last_fd,
            read=len(documents.documents),
            unreadable=len(documents.unreadable),
        )
        return documents

    # -- shifts -----------------------------------------------------------------------------

    async def open_shift(self, *, auto: bool = False) -> ShiftReportData:
        """Open a shift; an open one is success. An expired one is closed (Z) first."""
        state = await self._driver.read_state()
        if state.shift is ShiftState.EXPIRED:
            await self.close_shift(auto=True)
            state = await self._driver.read_state()
        if state.shift is ShiftState.OPEN:
            return await self._report(ReportKind.OPEN, state, auto=auto)
        try:
            await self._driver.open_shift(self._cashier)
        except ShiftAlreadyOpen:
            self._log.info("shift_already_open")
        state = await self._driver.read_state()
        return await self._report(ReportKind.OPEN, state, auto=auto)

    async def close_shift(self, *, auto: bool = False) -> ShiftReportData:
        """Z report: close the shift; a closed one is success (its counters are zero)."""
        state = await self._driver.read_state()
        info = await self._require_info()
        if state.shift is ShiftState.CLOSED:
            return await self._report(ReportKind.Z, state, auto=auto)
        open_doc = await self._shift_open_document(state)
        counters = await self._driver.read_counters()
        try:
            closed = await self._driver.close_shift(self._cashier)
        except ShiftNotOpen:
            self._log.info("shift_already_closed")
            return await self._report(ReportKind.Z, await self._driver.read_state(), auto=auto)
        report = ShiftReportData(
            kind=ReportKind.Z,
            at=closed.issued_at,
            shift=closed.shift,
            fn=info.fn_serial,
            opened_at=open_doc.issued_at if open_doc else None,
            closed_at=closed.issued_at,
            counters=closed.counters or counters,  # the Z's own, when the register gives them
            first_fd=open_doc.fd if open_doc else None,
            last_fd=closed.fd,
            auto=auto,
            change=await self._change_of(info.fn_serial, closed.shift),
        )
        self._emit(report)
        return report

    async def x_report(self) -> ShiftReportData:
        """Print an X report and return the shift's counters."""
        state = await self._driver.read_state()
        report = await self._report(ReportKind.X, state, auto=False, emit=False)
        await self._driver.x_report()
        self._emit(report)
        return report

    async def calculation_state_report(self) -> CalculationStateReport:
        """Print the FN's calculation-state report (an FN document with an FD, no receipt).

        Recovery decides a receipt by its mark, so a report FD in the shift changes nothing
        there; the receipt count of a shift never comes from FD arithmetic (docs/exactly-once.md).
        """
        await self._require_info()
        report = await self._driver.calculation_state_report()
        self._log.info(
            "calculation_state_report",
            fd=report.fd,
            unsent=report.unsent_docs,
            oldest_unsent=report.oldest_unsent.isoformat() if report.oldest_unsent else None,
        )
        return report

    async def open_drawer(self) -> None:
        """Open the cash drawer (no document, no money moves)."""
        await self._require_info()
        await self._driver.open_drawer()
        self._log.info("cash_drawer_opened")

    async def guard(self) -> None:
        """Run the shift guard with no receipt waiting (the worker calls this when idle).

        It rotates an old shift and recovers an expired one, but does not open a closed
        shift: that waits for the first receipt, so a Z at closing time stays closed.
        """
        await self._guard(await self._driver.read_state(), is_idle=True)

    # -- cash -------------------------------------------------------------------------------

    async def cash_drawer(self) -> Kopecks:
        """What the drawer holds now (register 241): how an interrupted movement is resolved."""
        return await self._driver.read_cash_drawer()

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """Put cash into the drawer (needs an open shift: the guard opens one)."""
        await self._guard(await self._driver.read_state())
        return await self._driver.cash_in(amount)

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """Take cash out of the drawer; the register refuses more than it holds."""
        await self._guard(await self._driver.read_state())
        return await self._driver.cash_out(amount)

    # -- health -----------------------------------------------------------------------------

    async def snapshot(self) -> RegisterSnapshot:
        """Read the register's state, FN and shift age for health."""
        info = await self._require_info()
        state = await self._driver.read_state()
        fn = await self._driver.read_fn_state()
        open_doc = await self._shift_open_document(state)
        return RegisterSnapshot(
            info=info,
            state=state,
            fn=fn,
            shift_opened_at=open_doc.issued_at if open_doc else None,
        )

    # -- internals --------------------------------------------------------------------------

    async def _require_info(self) -> DeviceInfo:
        if self._info is None:
            return await self.connect()
        return self._info

    def _guard_action(
        self, state: RegisterState | LedgerState, opened_at: datetime | None
    ) -> shift_guard.GuardAction | None:
        """What the guard would do now; None when nothing."""
        action = shift_guard.decide(
            shift=state.shift, opened_at=opened_at, clock=state.clock, policy=self._policy
        )
        return None if action is shift_guard.GuardAction.NONE else action

    async def _opened_at(self, state: ShiftView) -> datetime | None:
        open_doc = await self._shift_open_document(state)
        return open_doc.issued_at if open_doc else None

    async def _guard(self, state: RegisterState, *, is_idle: bool = False) -> RegisterState:
        open_doc = await self._shift_open_document(state)
        action = shift_guard.decide(
            shift=state.shift,
            opened_at=open_doc.issued_at if open_doc else None,
            clock=state.clock,
            policy=self._policy,
        )
        if action is shift_guard.GuardAction.NONE:
            return state
        if is_idle and action is shift_guard.GuardAction.OPEN:
            return state
        self._log.info(
            "shift_guard",
            action=action.value,
            shift=state.shift_number,
            opened_at=open_doc.issued_at.isoformat() if open_doc else None,
            register_clock=state.clock.isoformat(),
        )
        if action is not shift_guard.GuardAction.OPEN:
            is_rotation = action is shift_guard.GuardAction.ROTATE
            if is_rotation and state.shift_number == self._empty_shift:
                return state  # refused as empty before: the next receipt comes first
            try:
                await self.close_shift(auto=True)
            except EmptyShiftRefused as exc:
                if not is_rotation:
                    raise  # a locked register: nothing prints until a person closes it
                # Never a dummy sale, and never the next payment held behind a Z that cannot
                # come: the shift stays open until a receipt is in it (health: shift_overdue).
                self._empty_shift = state.shift_number
                self._log.warning(
                    "shift_guard_left_empty_shift_open", shift=state.shift_number, error=str(exc)
                )
                return state
        await self.open_shift(auto=True)
        state = await self._driver.read_state()
        if state.shift is not ShiftState.OPEN:
            raise ShiftGuardError(f"shift is {state.shift.value} after {action.value}")
        return state

    async def _report(
        self, kind: ReportKind, state: RegisterState, *, auto: bool, emit: bool = True
    ) -> ShiftReportData:
        info = await self._require_info()
        open_doc = await self._shift_open_document(state)
        counters = await self._driver.read_counters()
        report = ShiftReportData(
            kind=kind,
            at=state.clock,
            shift=state.shift_number,
            fn=info.fn_serial,
            opened_at=open_doc.issued_at if open_doc else None,
            closed_at=None,
            counters=counters,
            first_fd=open_doc.fd if open_doc else None,
            last_fd=state.last_fd,
            auto=auto,
            change=await self._change_of(info.fn_serial, state.shift_number),
        )
        if emit:
            self._emit(report)
        return report

    async def _change_of(self, fn: str, shift: int) -> ShiftChange | None:
        """The shift's change from the source; None without one or when it fails (logged)."""
        if self._shift_change is None:
            return None
        try:
            return await asyncio.to_thread(self._shift_change, fn, shift)
        except Exception as exc:  # noqa: BLE001 - a report goes out without change, never not at all
            self._log.warning("shift_change_unavailable", shift=shift, error=str(exc))
            return None

    def _emit(self, report: ShiftReportData) -> None:
        self._log.info(
            "shift_report",
            kind=report.kind.value,
            shift=report.shift,
            last_fd=report.last_fd,
            auto=report.auto,
        )
        if self._on_report is not None:
            self._on_report(report)

    async def _shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's open-shift document, or None when closed or unreadable."""
        if state.shift is ShiftState.CLOSED:
            return None
        try:
            return await self._driver.shift_open_document(state)
        except (ProtocolError, DeviceError) as exc:
            # Without it the guard relies on the register's own 24-hour lock (EXPIRED).
            self._log.warning("shift_open_document_unreadable", error=str(exc))
            return None
