"""A small in-memory FiscalDriver for fiscal-service tests: a shift, an FN tape and a clock.

Not a mock: it keeps the register's rules that the service's shift logic depends on (open
with a shift open raises ShiftAlreadyOpen, Z with none open raises ShiftNotOpen, every shift
document takes the next FD) and records every command it ran. ``before`` lets a test change
the register between the service's state read and its command, as a person pressing the
register's own buttons (or a second program on the line) would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from agent.domain.money import Kopecks
from agent.domain.receipt import Cashier, Receipt, VatRate
from agent.drivers.errors import DocumentNotFound, ShiftAlreadyOpen, ShiftNotOpen
from agent.drivers.interface import (
    CalculationStateReport,
    CashMovement,
    DeviceInfo,
    DocumentType,
    FiscalDocument,
    FnState,
    FnWarning,
    IssuedReceipt,
    LedgerState,
    PaymentTotals,
    ReceiptRef,
    RegisterState,
    ShiftCounters,
    ShiftDocument,
    ShiftState,
    ShiftView,
    TaxRow,
    TaxSetup,
)

__all__ = ["DEFAULT_TAX_SETUP", "FN_SERIAL", "FakeFiscalDriver"]

FN_SERIAL = "9999078900099999"
_ZERO = PaymentTotals(cash=Kopecks(0), card=Kopecks(0), prepaid=Kopecks(0), count=0)
_NO_VAT = {rate: Kopecks(0) for rate in VatRate}
_OPEN_SHIFT_CMD = 0xE0
_Z_REPORT_CMD = 0x41
_FIND_DOCUMENT_CMD = 0xFF0A

DEFAULT_TAX_SETUP = TaxSetup(
    computes_vat=True,
    rows=tuple(
        TaxRow(index=index, rate_hundredths=rate, name=name)
        for index, (rate, name) in enumerate(
            [
                (2200, "НДС 22%"),
                (1000, "НДС 10%"),
                (0, "НДС 0%"),
                (0, "без НДС"),
                (2200, "НДС 22/122"),
                (1000, "НДС 10/110"),
                (500, "НДС 5%"),
                (700, "НДС 7%"),
                (500, "НДС 5/105"),
                (700, "НДС 7/107"),
                (2000, "НДС 20%"),
                (2000, "НДС 20/120"),
            ],
            start=1,
        )
    ),
)
"""Tax mode 0 and the simulator's default tax table, rows in DEFAULT_TAX_RATE_INDEX order."""


@dataclass
class FakeFiscalDriver:
    """One register in memory; ``clock`` is its own clock, in its own zone."""

    clock: datetime
    shift: ShiftState = ShiftState.CLOSED
    shift_number: int = 0
    documents: list[FiscalDocument] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    before: dict[str, Callable[[], None]] = field(default_factory=dict)
    tax_setup: TaxSetup = DEFAULT_TAX_SETUP

    # -- what a test does to the register ---------------------------------------------------

    def press_open(self, at: datetime | None = None) -> None:
        """Open a shift on the register itself (the agent does not know)."""
        self.shift_number += 1
        self.shift = ShiftState.OPEN
        self._append(DocumentType.OPEN_SHIFT, at or self.clock)

    def press_z(self) -> None:
        """Close the shift on the register itself."""
        self.shift = ShiftState.CLOSED
        self._append(DocumentType.CLOSE_SHIFT, self.clock)

    def kinds(self) -> list[DocumentType | int]:
        """The FN tape's document types in FD order."""
        return [doc.type for doc in self.documents]

    def _append(self, kind: DocumentType, at: datetime) -> FiscalDocument:
        doc = FiscalDocument(
            fd=len(self.documents) + 1,
            type=kind,
            fp=1000 + len(self.documents),
            issued_at=at,
            shift=self.shift_number,
        )
        self.documents.append(doc)
        return doc

    def _run(self, name: str) -> None:
        self.commands.append(name)
        hook = self.before.pop(name, None)
        if hook is not None:
            hook()

    # -- FiscalDriver ----------------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        self._run("connect")
        return DeviceInfo(model="FAKE", serial="00000001", fn_serial=FN_SERIAL)

    async def aclose(self) -> None:
        self._run("aclose")

    async def read_state(self) -> RegisterState:
        self._run("read_state")
        return RegisterState(
            device_mode=4 if self.shift is ShiftState.CLOSED else 2,
            shift=self.shift,
            shift_number=self.shift_number,
            is_receipt_open=False,
            is_printing=False,
            has_paper=True,
            is_cover_open=False,
            clock=self.clock,
            last_fd=len(self.documents),
        )

    async def read_ledger(self) -> LedgerState:
        self._run("read_ledger")
        return LedgerState(
            fn_serial=FN_SERIAL,
            last_fd=len(self.documents),
            shift=ShiftState.CLOSED if self.shift is ShiftState.CLOSED else ShiftState.OPEN,
            shift_number=self.shift_number,
            is_receipt_open=False,
            clock=self.clock,
        )

    async def read_cash_drawer(self) -> Kopecks:
        self._run("read_cash_drawer")
        return Kopecks(0)

    async def read_fn_state(self) -> FnState:
        self._run("read_fn_state")
        return FnState(
            serial=FN_SERIAL,
            last_fd=len(self.documents),
            valid_until=date(2029, 1, 31),
            unsent_docs=0,
            oldest_unsent_at=None,
            warnings=FnWarning(0),
        )

    async def read_counters(self) -> ShiftCounters:
        self._run("read_counters")
        return ShiftCounters(
            shift=self.shift_number,
            sales=_ZERO,
            refunds=_ZERO,
            cash_in=Kopecks(0),
            cash_out=Kopecks(0),
            cash_in_drawer=Kopecks(0),
            sales_vat=_NO_VAT,
            refunds_vat=_NO_VAT,
        )

    async def read_tax_setup(self) -> TaxSetup:
        self._run("read_tax_setup")
        return self.tax_setup

    async def find_document(self, fd: int) -> FiscalDocument:
        self._run("find_document")
        if not 0 < fd <= len(self.documents):
            raise DocumentNotFound(0x08, _FIND_DOCUMENT_CMD, fd)
        return self.documents[fd - 1]

    async def read_document(self, fd: int) -> FiscalDocument:
        return await self.find_document(fd)

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        self._run("shift_open_document")
        if state.shift is ShiftState.CLOSED:
            return None
        opens = [doc for doc in self.documents if doc.type == DocumentType.OPEN_SHIFT]
        return opens[-1] if opens else None

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        del cashier
        self._run("open_shift")
        if self.shift is not ShiftState.CLOSED:
            raise ShiftAlreadyOpen(0x02, _OPEN_SHIFT_CMD, "shift is open")
        self.press_open()
        doc = self.documents[-1]
        return ShiftDocument(shift=self.shift_number, fd=doc.fd, fp=doc.fp, issued_at=doc.issued_at)

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        del cashier
        self._run("close_shift")
        if self.shift is ShiftState.CLOSED:
            raise ShiftNotOpen(0x3D, _Z_REPORT_CMD, "shift is closed")
        self.press_z()
        doc = self.documents[-1]
        return ShiftDocument(shift=self.shift_number, fd=doc.fd, fp=doc.fp, issued_at=doc.issued_at)

    async def x_report(self) -> None:
        self._run("x_report")

    async def calculation_state_report(self) -> CalculationStateReport:
        self._run("calculation_state_report")
        doc = self._append(DocumentType.CALCULATION_STATE, self.clock)
        return CalculationStateReport(fd=doc.fd, fp=doc.fp, unsent_docs=0, oldest_unsent=None)

    async def open_drawer(self) -> None:
        self._run("open_drawer")

    async def settle(self, ref: ReceiptRef) -> None:
        del ref
        self._run("settle")

    async def register(
        self, receipt: Receipt, *, ref: ReceiptRef | None = None, mark: str = ""
    ) -> IssuedReceipt:
        mark = ref.mark if ref is not None else mark
        self._run("register")
        doc = self._append(DocumentType.RECEIPT, self.clock)
        number = sum(
            1
            for d in self.documents
            if d.type == DocumentType.RECEIPT and d.shift == self.shift_number
        )
        return IssuedReceipt(
            fn=FN_SERIAL,
            fd=doc.fd,
            fp=doc.fp,
            shift=self.shift_number,
            number=number,
            issued_at=doc.issued_at,
            change=receipt.change,
            mark=mark or None,
        )

    async def cancel_receipt(self) -> None:
        self._run("cancel_receipt")

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        self._run("cash_in")
        return CashMovement(number=1, cash_in_drawer=amount)

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        del amount
        self._run("cash_out")
        return CashMovement(number=1, cash_in_drawer=Kopecks(0))

    def advance(self, delta: timedelta) -> None:
        """Move the register's clock."""
        self.clock += delta
