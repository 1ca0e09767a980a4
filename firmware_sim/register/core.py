"""The register and its FN as state: shift, clock, FN tape, money and operating registers.

:class:`RegisterCore` holds everything a fiscal register keeps, whatever protocol drives it,
and the steps that change it once an operation has been checked (open a shift, issue a
receipt, close the shift, move cash). It knows nothing of wire formats: the Shtrih front end
(``firmware_sim.device``) decodes Shtrih payloads and the ATOL front end
(``firmware_sim.atol``) JSON tasks; both end up here. The checked, neutral operations are in
``firmware_sim.register.model``.

No I/O, no clock reading: every operation gets the host time and the register's own clock is
``now + clock_offset``. :attr:`revision` grows whenever something the store keeps changed.

The money and operating register numbers are Shtrih-M's (§2.10 of docs/shtrih-wire-notes.md):
they are the model's counters, and the Shtrih front end reads them out as they are.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from firmware_sim.corrections import correction_totals
from firmware_sim.fn_documents import fiscal_sign
from firmware_sim.register.refusals import Reason, RegisterRefusal
from firmware_sim.state import (
    PAYMENT_TYPES,
    CashMovement,
    DeviceConfig,
    DeviceState,
    DocType,
    DocumentTags,
    FnDocument,
    OpenReceipt,
    ReceiptKind,
    ShiftCounters,
    SignTotals,
    TableKey,
    TableValue,
)
from firmware_sim.tables import TAX_MODE_HOST, TAX_MODE_KEY, TAX_MODES, row_rates, tax_mode
from firmware_sim.vat import receipt_vat, register_moves, shift_vat

__all__ = [
    "DRAWER",
    "MAX_MONEY",
    "MONEY_KEPT",
    "OPERATING_KEPT",
    "SHIFT_LIMIT",
    "RegisterCore",
    "payment_register",
]

SHIFT_LIMIT = timedelta(hours=24)
MAX_MONEY = (1 << 40) - 1  # the largest sum an FN document carries (5 bytes)
DRAWER = 241  # money register: cash in the drawer, kept by the Z report
CASH_IN_SHIFT, CASH_OUT_SHIFT = 242, 243
# Money and operating registers kept across a Z report (§2.10); all others are shift ones.
MONEY_KEPT = frozenset({241, 244})
OPERATING_KEPT = frozenset({152, 155, 156, 158, 159, 166, 183, 184})
RECEIPTS_BY_OP, LAST_NUMBER_BY_OP, THROUGH_NUMBER = 144, 148, 152
CASH_IN_COUNT, CASH_OUT_COUNT, CANCELLED, X_REPORTS, Z_REPORTS = 153, 154, 157, 158, 159


def payment_register(payment_type: int, op: int) -> int:
    """The shift money register for a payment type (1…16) and operation (§2.10)."""
    if payment_type <= 4:
        return 193 + 4 * (payment_type - 1) + op
    return 4144 + op + 4 * (payment_type - 5)


class RegisterCore:
    """The register's durable state and the steps that change it after the checks."""

    def __init__(self, *, config: DeviceConfig, state: DeviceState | None = None) -> None:
        state = state or DeviceState()
        self._config = config
        self._clock_offset_s = state.clock_offset_s
        self._shift_number = state.shift_number
        self._is_shift_open = state.is_shift_open
        self._shift_opened_at = state.shift_opened_at
        self._shift_first_fd = state.shift_first_fd
        self._receipts_in_shift = state.receipts_in_shift
        self._documents: list[FnDocument] = list(state.documents)
        self._movements: list[CashMovement] = list(state.cash_movements)
        self._money: dict[int, int] = dict(state.money)
        self._operating: dict[int, int] = dict(state.operating)
        self._ofd_acked_fd = state.ofd_acked_fd
        self._tables: dict[TableKey, TableValue] = dict(state.tables)
        self._receipt: OpenReceipt | None = state.open_receipt
        self._has_paper = state.has_paper
        self._busy_until: datetime | None = None
        self._print_interrupted = False
        self._now: datetime | None = None
        self._revision = 0
        self._drawer_openings = 0  # drawer pulses since start (not durable: no document)
        self._is_cover_open = False  # not durable, like the paper

    # ---- public state -----------------------------------------------------------------------

    @property
    def config(self) -> DeviceConfig:
        """The register's fixed configuration."""
        return self._config

    @property
    def revision(self) -> int:
        """Grows whenever durable state changed; persist :attr:`state` when it moves."""
        return self._revision

    @property
    def tax_mode(self) -> int:
        """Table 1 row 1 field 14 "Начисление налогов" (0 by default)."""
        return tax_mode(self._tables)

    @property
    def has_paper(self) -> bool:
        """Whether the receipt roll is in."""
        return self._has_paper

    @property
    def is_cover_open(self) -> bool:
        """Whether the printer cover is open (nothing prints)."""
        return self._is_cover_open

    @property
    def cash_in_drawer(self) -> int:
        """Cash the register counts in its drawer, kopecks."""
        return self._money.get(DRAWER, 0)

    @property
    def drawer_openings(self) -> int:
        """Drawer pulses since the process started."""
        return self._drawer_openings

    @property
    def state(self) -> DeviceState:
        """A frozen snapshot of the whole register."""
        return DeviceState(
            clock_offset_s=self._clock_offset_s,
            shift_number=self._shift_number,
            is_shift_open=self._is_shift_open,
            shift_opened_at=self._shift_opened_at,
            shift_first_fd=self._shift_first_fd,
            receipts_in_shift=self._receipts_in_shift,
            documents=tuple(self._documents),
            cash_movements=tuple(self._movements),
            money=tuple(sorted((n, v) for n, v in self._money.items() if v)),
            operating=tuple(sorted((n, v) for n, v in self._operating.items() if v)),
            ofd_acked_fd=self._ofd_acked_fd,
            tables=tuple(sorted(self._tables.items())),
            open_receipt=self._receipt,
            has_paper=self._has_paper,
        )

    # ---- the outside world acting on the register (control API) ----------------------------

    def set_tax_mode(self, mode: int) -> None:
        """Write the tax mode (0..3), as 0x1E to table 1 row 1 field 14 would."""
        if mode not in TAX_MODES:
            raise ValueError(f"tax mode must be 0..3, got {mode}")
        self._tables[TAX_MODE_KEY] = mode
        self._revision += 1

    def power_cut(self) -> None:
        """Power lost: the open receipt and the print job go; the FN tape stays."""
        self._receipt = None
        self._busy_until = None
        self._print_interrupted = False

    def set_paper(self, present: bool) -> None:
        """Load or take out the receipt roll."""
        if not present and self._is_printing():
            self._print_interrupted = True  # the print job waits for paper, then a resume
            self._busy_until = None
        self._has_paper = present

    def set_cover(self, is_open: bool) -> None:
        """Open or close the printer cover."""
        self._is_cover_open = is_open

    def advance_clock(self, seconds: float) -> None:
        """Move the register's clock (not the host's) by ``seconds``."""
        self._clock_offset_s += seconds
        self._revision += 1

    def ofd_ack(self, through_fd: int | None = None) -> int:
        """Mark FDs up to ``through_fd`` (default: all) as acknowledged by the OFD."""
        last = self._last_fd()
        target = last if through_fd is None else max(0, min(through_fd, last))
        if target > self._ofd_acked_fd:
            self._ofd_acked_fd = target
            self._revision += 1
        return self._ofd_acked_fd

    def start_aged_shift(self, now: datetime, age_s: float) -> None:
        """Open a shift that has already been open ``age_s`` seconds (``--shift-age``)."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if self._is_shift_open:
            raise ValueError("a shift is already open")
        self._now = now
        opened_at = self._clock() - timedelta(seconds=age_s)
        self._ensure_registered(opened_at - timedelta(minutes=1))
        self._do_open_shift(opened_at, DocumentTags())
        self._busy_until = None

    # ---- clock, printer, tape ---------------------------------------------------------------

    def _set_now(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self._now = now

    def _clock(self) -> datetime:
        assert self._now is not None
        moment = self._now + timedelta(seconds=self._clock_offset_s)
        return moment.astimezone(self._config.tz).replace(microsecond=0)

    def _is_expired(self, clock: datetime) -> bool:
        opened = self._shift_opened_at
        return self._is_shift_open and opened is not None and clock - opened > SHIFT_LIMIT

    def _is_printing(self) -> bool:
        return (
            self._busy_until is not None and self._now is not None and self._now < self._busy_until
        )

    def _start_printing(self) -> None:
        assert self._now is not None
        if self._config.print_time_s > 0:
            self._busy_until = self._now + timedelta(seconds=self._config.print_time_s)

    def _last_fd(self) -> int:
        return self._documents[-1].fd if self._documents else 0

    def _shift_documents(self) -> list[FnDocument]:
        """The documents of the open shift, from its open-shift report on."""
        return [doc for doc in self._documents if doc.fd >= self._shift_first_fd]

    def _append(self, doc: FnDocument) -> FnDocument:
        signed = replace(doc, fp=fiscal_sign(self._config.fn_serial, doc))
        self._documents.append(signed)
        self._revision += 1
        return signed

    def _ensure_registered(self, at: datetime) -> None:
        """The FN's first document is its registration report (FD 1), sent to the OFD."""
        if self._documents:
            return
        self._append(FnDocument(fd=1, type=DocType.REGISTRATION, fp=0, issued_at=at, shift=0))
        self._ofd_acked_fd = 1

    def _bump(self, register: int, by: int = 1) -> None:
        self._operating[register] = self._operating.get(register, 0) + by
        self._revision += 1

    def _add_money(self, register: int, amount: int) -> None:
        self._money[register] = self._money.get(register, 0) + amount
        self._revision += 1

    # ---- the steps that change the state (callers have checked everything) -----------------

    def _do_open_shift(self, clock: datetime, tags: DocumentTags) -> FnDocument:
        self._shift_number += 1
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.OPEN_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=tags,
            )
        )
        self._is_shift_open = True
        self._shift_opened_at = clock
        self._shift_first_fd = doc.fd
        self._receipts_in_shift = 0
        self._bump(THROUGH_NUMBER)
        self._start_printing()
        return doc

    def _sign_totals(self, op: int) -> SignTotals:
        money = self._money

        def paid(payment_type: int) -> int:
            return money.get(payment_register(payment_type, op), 0)

        return SignTotals(
            cash=paid(1),
            card=sum(paid(t) for t in range(2, 14)),
            prepaid=paid(14),
            other=paid(15) + paid(16),
            count=self._operating.get(RECEIPTS_BY_OP + op, 0),
        )

    def _do_close_shift(self, clock: datetime, tags: DocumentTags) -> FnDocument:
        """The close-shift document with the shift's counters; the shift registers cleared."""
        fd = self._last_fd() + 1
        sale, refund = ReceiptKind.SALE.op_index, ReceiptKind.REFUND.op_index
        counters = ShiftCounters(
            sales=self._sign_totals(sale),
            refunds=self._sign_totals(refund),
            cash_in=self._money.get(CASH_IN_SHIFT, 0),
            cash_out=self._money.get(CASH_OUT_SHIFT, 0),
            cash_in_drawer=self._money.get(DRAWER, 0),
            receipts=self._receipts_in_shift,
            documents=fd - self._shift_first_fd + 1,
            first_fd=self._shift_first_fd,
            last_fd=fd,
            sales_vat=shift_vat(self._money, self._config.tax_rates, sale),
            refunds_vat=shift_vat(self._money, self._config.tax_rates, refund),
            corrections=correction_totals(self._shift_documents(), ReceiptKind.SALE),
            correction_refunds=correction_totals(self._shift_documents(), ReceiptKind.REFUND),
        )
        doc = self._append(
            FnDocument(
                fd=fd,
                type=DocType.CLOSE_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=tags,
                counters=counters,
            )
        )
        self._money = {n: v for n, v in self._money.items() if n in MONEY_KEPT}
        self._operating = {n: v for n, v in self._operating.items() if n in OPERATING_KEPT}
        self._is_shift_open = False
        self._receipts_in_shift = 0
        self._bump(Z_REPORTS)
        self._bump(THROUGH_NUMBER)
        self._start_printing()
        return doc

    def _do_x_report(self) -> None:
        self._bump(X_REPORTS)
        self._bump(THROUGH_NUMBER)
        self._start_printing()

    def _check_payments(self, receipt: OpenReceipt, total: int, payments: list[int]) -> int:
        """Money rules of a close; returns the change (given from cash only)."""
        if total == 0:
            raise RegisterRefusal(Reason.ZERO_TOTAL, "zero receipt total")
        tendered = sum(payments)
        if tendered < total:
            raise RegisterRefusal(Reason.UNDERPAID, f"paid {tendered} of {total}")
        if tendered - payments[0] > total:
            raise RegisterRefusal(Reason.NON_CASH_ABOVE_TOTAL, "non-cash payments above total")
        change = tendered - total
        drawer = self._money.get(DRAWER, 0)
        if receipt.kind is ReceiptKind.REFUND and payments[0] - change > drawer:
            raise RegisterRefusal(Reason.NOT_ENOUGH_CASH, f"drawer holds {drawer}")
        return change

    def _issue_receipt(
        self,
        total: int,
        payments: list[int],
        change: int,
        tax_system: int | None,
    ) -> FnDocument:
        """Close the open receipt into an FD: tape, registers, drawer. Checks are done."""
        receipt = self._receipt
        assert receipt is not None
        kept = [*payments] + [0] * (PAYMENT_TYPES - len(payments))
        kept[0] -= change
        op = receipt.kind.op_index
        number = self._receipts_in_shift + 1
        is_host_tax = self.tax_mode == TAX_MODE_HOST
        items = (
            receipt.items if is_host_tax else tuple(replace(i, tax_sum=None) for i in receipt.items)
        )
        vat = receipt_vat(
            items,
            self._config.tax_rates,
            row_rates(self._tables, self._config.tax_rates),
            host_sums=is_host_tax,
        )
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.CORRECTION if receipt.is_correction else DocType.RECEIPT,
                fp=0,
                issued_at=self._clock(),
                shift=self._shift_number,
                number=number,
                kind=receipt.kind,
                total=total,
                payments=tuple(kept),
                change=change,
                items=items,
                tags=receipt.tags,
                tax_system=tax_system,
                vat=vat,
            )
        )
        if not receipt.is_correction:  # a correction counts apart: tag 1133 at the Z
            for register, amount in register_moves(vat, op):
                self._add_money(register, amount)
            for payment_type, amount in enumerate(kept, start=1):
                if amount:
                    self._add_money(payment_register(payment_type, op), amount)
            self._bump(RECEIPTS_BY_OP + op)
        if kept[0]:
            self._add_money(DRAWER, kept[0] if receipt.kind is ReceiptKind.SALE else -kept[0])
        self._receipts_in_shift = number
        self._operating[LAST_NUMBER_BY_OP + op] = number
        self._bump(THROUGH_NUMBER)
        self._receipt = None
        self._start_printing()
        return doc

    def _do_cancel_receipt(self) -> None:
        self._receipt = None
        self._bump(CANCELLED)
        self._start_printing()

    def _check_cash_move(self, amount: int, *, is_out: bool) -> None:
        if amount <= 0:
            raise RegisterRefusal(Reason.BAD_PARAMETERS, "zero amount")
        drawer = self._money.get(DRAWER, 0)
        if is_out and amount > drawer:
            raise RegisterRefusal(Reason.NOT_ENOUGH_CASH, f"drawer holds {drawer}")

    def _do_cash(self, amount: int, clock: datetime, *, is_out: bool) -> CashMovement:
        """A cash in or out: registers, drawer, the movement (a document without an FD)."""
        self._add_money(CASH_OUT_SHIFT if is_out else CASH_IN_SHIFT, amount)
        self._add_money(DRAWER, -amount if is_out else amount)
        self._bump(CASH_OUT_COUNT if is_out else CASH_IN_COUNT)
        self._bump(THROUGH_NUMBER)
        move = CashMovement(
            number=self._operating[THROUGH_NUMBER],
            direction="out" if is_out else "in",
            amount=amount,
            at=clock,
            shift=self._shift_number,
        )
        self._movements.append(move)
        self._start_printing()
        return move

    def _do_open_drawer(self) -> None:
        self._drawer_openings += 1
        self._revision += 1
