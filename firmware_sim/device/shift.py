"""Shift commands: 0xE0 open, 0x40 X report, 0x41 Z report, FF40, FF41 and FF42.

Opening and closing the shift with their FN documents, the begun shift documents
FF0C tags go into, and the shift totals the close-shift report records.
"""

from __future__ import annotations

from datetime import datetime

from firmware_sim.commands import ErrorCode, Refusal, le
from firmware_sim.corrections import correction_totals
from firmware_sim.device.core import (
    MONEY_KEPT,
    OPERATING_KEPT,
    DeviceCore,
    _payment_register,
    _PendingShift,
)
from firmware_sim.state import (
    DocType,
    DocumentTags,
    FnDocument,
    ReceiptKind,
    ShiftCounters,
    SignTotals,
)
from firmware_sim.vat import shift_vat


class ShiftCommands(DeviceCore):
    """Shift open and close and reports of :class:`~firmware_sim.device.Device`."""

    def _take_pending_tags(self, kind: _PendingShift) -> DocumentTags:
        tags = self._pending_tags if self._pending_shift is kind else DocumentTags()
        self._pending_shift = None
        self._pending_tags = DocumentTags()
        return tags

    def _do_open_shift(self, clock: datetime) -> FnDocument:
        self._shift_number += 1
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.OPEN_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=self._take_pending_tags(_PendingShift.OPEN),
            )
        )
        self._is_shift_open = True
        self._shift_opened_at = clock
        self._shift_first_fd = doc.fd
        self._receipts_in_shift = 0
        self._bump(152)
        self._start_printing()
        return doc

    def _sign_totals(self, op: int) -> SignTotals:
        money = self._money

        def paid(payment_type: int) -> int:
            return money.get(_payment_register(payment_type, op), 0)

        return SignTotals(
            cash=paid(1),
            card=sum(paid(t) for t in range(2, 14)),
            prepaid=paid(14),
            other=paid(15) + paid(16),
            count=self._operating.get(144 + op, 0),
        )

    def _open_shift(self, body: bytes) -> bytes:
        """0xE0: opens a shift with an open-shift FD; answer ``E0 00 op``."""
        op = self._operator(self._password_only(body))
        self._check_not_busy()
        self._check_no_receipt()
        if self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift already open")
        clock = self._clock()
        self._check_fn_alive(clock)
        self._check_paper()
        self._do_open_shift(clock)
        return bytes([op])

    def _x_report(self, body: bytes) -> bytes:
        """0x40: prints the shift counters; no FD, the shift stays open."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        self._check_no_receipt()
        self._check_paper()
        self._bump(158)
        self._bump(152)
        self._start_printing()
        return bytes([op])

    def _z_report(self, body: bytes) -> bytes:
        """0x41: closes the shift with a close-shift FD and clears the shift registers."""
        op = self._operator(self._password_only(body), admin=True)
        self._check_not_busy()
        self._check_no_receipt()
        if not self._is_shift_open:
            raise Refusal(ErrorCode.SHIFT_NOT_OPEN, "no shift to close")
        self._check_paper()
        clock = self._clock()
        fd = self._last_fd() + 1
        counters = ShiftCounters(
            sales=self._sign_totals(ReceiptKind.SALE.op_index),
            refunds=self._sign_totals(ReceiptKind.REFUND.op_index),
            cash_in=self._money.get(242, 0),
            cash_out=self._money.get(243, 0),
            cash_in_drawer=self._money.get(241, 0),
            receipts=self._receipts_in_shift,
            documents=fd - self._shift_first_fd + 1,
            first_fd=self._shift_first_fd,
            last_fd=fd,
            sales_vat=shift_vat(self._money, self._config.tax_rates, ReceiptKind.SALE.op_index),
            refunds_vat=shift_vat(self._money, self._config.tax_rates, ReceiptKind.REFUND.op_index),
            corrections=correction_totals(self._shift_documents(), ReceiptKind.SALE),
            correction_refunds=correction_totals(self._shift_documents(), ReceiptKind.REFUND),
        )
        self._append(
            FnDocument(
                fd=fd,
                type=DocType.CLOSE_SHIFT,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                tags=self._take_pending_tags(_PendingShift.CLOSE),
                counters=counters,
            )
        )
        self._money = {n: v for n, v in self._money.items() if n in MONEY_KEPT}
        self._operating = {n: v for n, v in self._operating.items() if n in OPERATING_KEPT}
        self._is_shift_open = False
        self._receipts_in_shift = 0
        self._bump(159)
        self._bump(152)
        self._start_printing()
        return bytes([op])

    def _fn_shift_params(self, body: bytes) -> bytes:
        """FF40: shift state, shift number, receipts issued in the shift so far."""
        self._fn_password(body)
        return (
            bytes([int(self._is_shift_open)])
            + le(self._shift_number & 0xFFFF, 2)
            + le(self._receipts_in_shift & 0xFFFF, 2)
        )

    def _fn_begin_open_shift(self, body: bytes) -> bytes:
        """FF41: begin the open-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if self._is_expired(self._clock()):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        if self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift already open")
        self._pending_shift = _PendingShift.OPEN
        self._pending_tags = DocumentTags()
        return b""

    def _fn_begin_close_shift(self, body: bytes) -> bytes:
        """FF42: begin the close-shift report; FF0C tags then go into it."""
        self._fn_password(body)
        self._check_no_receipt()
        if not self._is_shift_open:
            raise Refusal(ErrorCode.FN_BAD_STATE, "shift closed")
        self._pending_shift = _PendingShift.CLOSE
        self._pending_tags = DocumentTags()
        return b""
