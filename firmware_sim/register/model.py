"""The neutral register: checked operations any protocol front end calls.

Each public method takes the host time ``now`` (the register clock is ``now`` plus its
offset), checks everything first, in one order (printer busy, a receipt open, the shift,
parameters and money, FN life, paper), and raises :class:`RegisterRefusal` with a neutral
:class:`Reason` before changing anything. A front end maps the reason to its own code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from firmware_sim.register.core import MAX_MONEY, SHIFT_LIMIT, RegisterCore
from firmware_sim.register.refusals import Reason, RegisterRefusal
from firmware_sim.state import (
    PAYMENT_TYPES,
    RECEIPT_TYPES,
    CashMovement,
    DocumentTags,
    FnDocument,
    Item,
    OpenReceipt,
    ReceiptKind,
)

__all__ = ["Register", "ShiftState", "ShiftStatus"]


class ShiftState(Enum):
    """The shift as a register reports it."""

    CLOSED = "closed"
    OPENED = "opened"
    EXPIRED = "expired"  # open for more than 24 hours on the register clock


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftStatus:
    """The shift at one moment of the register clock."""

    state: ShiftState
    number: int  # the open shift, or the last closed one
    opened_at: datetime | None
    expires_at: datetime | None  # opened_at + 24 h while open
    receipts: int  # receipts issued in the shift
    documents: int  # fiscal documents of the shift so far (0 when closed)
    clock: datetime

    def as_dict(self) -> dict[str, Any]:
        """The shift as the control API's GET /state shows it (any front end)."""
        return {
            "open": self.opened_at is not None,
            "number": self.number,
            "opened_at": None if self.opened_at is None else self.opened_at.isoformat(),
            "age_s": None
            if self.opened_at is None
            else (self.clock - self.opened_at).total_seconds(),
            "expired": self.state is ShiftState.EXPIRED,
            "state": self.state.value,
        }


class Register(RegisterCore):
    """A fiscal register with its FN, driven through neutral operations."""

    # ---- reads ------------------------------------------------------------------------------

    def clock(self, now: datetime) -> datetime:
        """The register's clock at host time ``now``."""
        self._set_now(now)
        return self._clock()

    def ensure_registered(self, now: datetime) -> None:
        """A register in service has its FN's registration report (FD 1) before anything.

        The Shtrih front end does this on every command; the ATOL front end on every task,
        so both show the same FN to a status read on a fresh state file.
        """
        self._set_now(now)
        self._ensure_registered(self._clock())

    @property
    def last_fd(self) -> int:
        """The last fiscal document number (0 before the first)."""
        return self._last_fd()

    @property
    def receipt_open(self) -> bool:
        """Whether a receipt is being built."""
        return self._receipt is not None

    def shift_status(self, now: datetime) -> ShiftStatus:
        """The shift's state, number and times on the register clock."""
        clock = self.clock(now)
        opened = self._shift_opened_at if self._is_shift_open else None
        if not self._is_shift_open:
            state = ShiftState.CLOSED
        elif self._is_expired(clock):
            state = ShiftState.EXPIRED
        else:
            state = ShiftState.OPENED
        return ShiftStatus(
            state=state,
            number=self._shift_number,
            opened_at=opened,
            expires_at=None if opened is None else opened + SHIFT_LIMIT,
            receipts=self._receipts_in_shift,
            documents=len(self._shift_documents()) if self._is_shift_open else 0,
            clock=clock,
        )

    def document(self, fd: int) -> FnDocument | None:
        """The fiscal document numbered ``fd``, if the FN has it."""
        if not 1 <= fd <= len(self._documents):
            return None
        return self._documents[fd - 1]

    def last_document(self, *, receipt_only: bool = False) -> FnDocument | None:
        """The last fiscal document (the last receipt with ``receipt_only``)."""
        for doc in reversed(self._documents):
            if not receipt_only or doc.type in RECEIPT_TYPES:
                return doc
        return None

    # ---- checks -----------------------------------------------------------------------------

    def _begin(self, now: datetime) -> datetime:
        self._set_now(now)
        self._ensure_registered(self._clock())
        if self._is_printing():
            raise RegisterRefusal(Reason.PRINTING, "still printing the previous document")
        return self._clock()

    def _need_no_receipt(self) -> None:
        if self._receipt is not None:
            raise RegisterRefusal(Reason.RECEIPT_OPEN, "a receipt is open")

    def _need_selling_shift(self, clock: datetime) -> None:
        if not self._is_shift_open:
            raise RegisterRefusal(Reason.SHIFT_CLOSED, "shift closed")
        if self._is_expired(clock):
            raise RegisterRefusal(Reason.SHIFT_EXPIRED, "shift open for more than 24 hours")

    def _need_fn_alive(self, clock: datetime) -> None:
        if clock.date() > self._config.fn_valid_until:
            raise RegisterRefusal(Reason.FN_EXPIRED, "FN validity ended")

    def _need_paper(self) -> None:
        if self._is_cover_open:
            raise RegisterRefusal(Reason.COVER_OPEN, "the printer cover is open")
        if not self._has_paper:
            raise RegisterRefusal(Reason.PAPER_OUT, "no receipt paper")

    # ---- shift ------------------------------------------------------------------------------

    def open_shift(self, now: datetime, tags: DocumentTags | None = None) -> FnDocument:
        """Open a shift with its open-shift report."""
        clock = self._begin(now)
        self._need_no_receipt()
        if self._is_shift_open:
            raise RegisterRefusal(Reason.SHIFT_OPEN, "shift already open")
        self._need_fn_alive(clock)
        self._need_paper()
        return self._do_open_shift(clock, tags or DocumentTags())

    def close_shift(self, now: datetime, tags: DocumentTags | None = None) -> FnDocument:
        """Close the shift (Z report); allowed past 24 hours, which is how one ends it."""
        clock = self._begin(now)
        self._need_no_receipt()
        if not self._is_shift_open:
            raise RegisterRefusal(Reason.SHIFT_CLOSED, "no shift to close")
        self._need_paper()
        return self._do_close_shift(clock, tags or DocumentTags())

    def x_report(self, now: datetime) -> None:
        """Print the shift counters; no fiscal document."""
        self._begin(now)
        self._need_no_receipt()
        self._need_paper()
        self._do_x_report()

    # ---- receipts ---------------------------------------------------------------------------

    def open_receipt(
        self,
        now: datetime,
        kind: ReceiptKind,
        tags: DocumentTags | None = None,
        *,
        is_correction: bool = False,
    ) -> None:
        """Begin a receipt of ``kind`` (a correction receipt); lines and the close follow."""
        clock = self._begin(now)
        self._need_no_receipt()
        self._need_selling_shift(clock)
        self._need_fn_alive(clock)
        self._need_paper()
        self._receipt = OpenReceipt(
            kind=kind, operator=0, tags=tags or DocumentTags(), is_correction=is_correction
        )

    def add_item(self, now: datetime, kind: ReceiptKind, item: Item, operator: int = 0) -> None:
        """Add a line; the first line opens a receipt of ``kind`` when none is open."""
        clock = self._begin(now)
        self._need_selling_shift(clock)
        receipt = self._receipt
        takes_sign = receipt is not None and receipt.is_correction and not receipt.items
        if receipt is not None and receipt.kind is not kind and not takes_sign:
            raise RegisterRefusal(Reason.WRONG_RECEIPT_KIND, "the open receipt is of another kind")
        if item.qty_micro <= 0 or item.price < 0 or item.amount < 0:
            raise RegisterRefusal(Reason.BAD_PARAMETERS, "quantity, price or amount")
        if not 0 <= item.tax_index <= len(self._config.tax_rates):
            raise RegisterRefusal(Reason.BAD_PARAMETERS, f"tax row {item.tax_index}")
        if (receipt.total if receipt else 0) + item.amount > MAX_MONEY:
            raise RegisterRefusal(Reason.TOTAL_OVERFLOW, "receipt total overflow")
        self._need_fn_alive(clock)
        self._need_paper()
        receipt = receipt or OpenReceipt(kind=kind, operator=operator)
        # kind: a correction receipt begun without a sign takes its first line's
        self._receipt = replace(receipt, kind=kind, items=(*receipt.items, item))

    def close_receipt(
        self, now: datetime, payments: list[int], tax_system: int | None = None
    ) -> FnDocument:
        """Close the open receipt: ``payments`` by FN payment type (1 cash first, up to 16)."""
        clock = self._begin(now)
        receipt = self._receipt
        if receipt is None:
            raise RegisterRefusal(Reason.NO_RECEIPT, "no receipt open")
        if self._is_expired(clock):
            raise RegisterRefusal(Reason.SHIFT_EXPIRED, "shift open for more than 24 hours")
        if len(payments) > PAYMENT_TYPES or any(p < 0 for p in payments):
            raise RegisterRefusal(Reason.BAD_PARAMETERS, "payments")
        full = [*payments] + [0] * (PAYMENT_TYPES - len(payments))
        change = self._check_payments(receipt, receipt.total, full)
        self._need_fn_alive(clock)
        self._need_paper()
        return self._issue_receipt(receipt.total, full, change, tax_system)

    def cancel_receipt(self, now: datetime) -> None:
        """Drop the open receipt; no fiscal document."""
        self._begin(now)
        if self._receipt is None:
            raise RegisterRefusal(Reason.NO_RECEIPT, "no receipt open")
        self._do_cancel_receipt()

    def issue_receipt(
        self,
        now: datetime,
        *,
        kind: ReceiptKind,
        items: list[Item],
        payments: list[int],
        tax_system: int | None = None,
        tags: DocumentTags | None = None,
        is_correction: bool = False,
    ) -> FnDocument:
        """A whole receipt at once: all of it becomes one FD, or nothing changes."""
        before = self._receipt
        if before is not None:
            raise RegisterRefusal(Reason.RECEIPT_OPEN, "a receipt is open")
        if not items:
            raise RegisterRefusal(Reason.BAD_PARAMETERS, "a receipt needs a line")
        revision = self._revision
        try:
            self.open_receipt(now, kind, tags, is_correction=is_correction)
            for item in items:
                self.add_item(now, kind, item)
            return self.close_receipt(now, payments, tax_system)
        except RegisterRefusal:
            self._receipt = None  # nothing was stored: the receipt never closed
            self._revision = max(self._revision, revision)
            raise

    # ---- cash -------------------------------------------------------------------------------

    def cash_in(self, now: datetime, amount: int) -> CashMovement:
        """Put ``amount`` kopecks into the drawer (a document without an FD)."""
        return self._move_cash(now, amount, is_out=False)

    def cash_out(self, now: datetime, amount: int) -> CashMovement:
        """Take ``amount`` kopecks out of the drawer; not more than it holds."""
        return self._move_cash(now, amount, is_out=True)

    def _move_cash(self, now: datetime, amount: int, *, is_out: bool) -> CashMovement:
        clock = self._begin(now)
        self._need_no_receipt()
        self._need_selling_shift(clock)
        self._check_cash_move(amount, is_out=is_out)
        self._need_paper()
        return self._do_cash(amount, clock, is_out=is_out)

    def paper_runs_out_while_printing(self) -> None:
        """The roll ends while the last document prints: it is in the FN, its print is not."""
        self._has_paper = False
        self._print_interrupted = True
        self._busy_until = None

    @property
    def print_interrupted(self) -> bool:
        """A document's print was cut short; it waits for paper and a continue."""
        return self._print_interrupted

    def continue_print(self, now: datetime) -> None:
        """Finish printing a document the paper ran out in (paper needed)."""
        self._set_now(now)
        self._need_paper()
        self._print_interrupted = False

    def open_drawer(self, now: datetime) -> None:
        """Pulse the drawer: no document."""
        self._set_now(now)
        self._do_open_drawer()
