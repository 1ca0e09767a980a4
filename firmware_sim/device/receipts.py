"""Receipt commands: open, items, close, cancel and corrections.

0x8D, 0x80/0x82, FF46 lines, FF35 correction receipts, 0x85 and FF45 closes,
0x88 cancel and 0x17 lines printed on the open receipt.
"""

from __future__ import annotations

from dataclasses import replace

from firmware_sim.commands import MIN_TEXT_BYTES, ErrorCode, Refusal, RequestReader, fn_datetime, le
from firmware_sim.corrections import check_correction_tags
from firmware_sim.device.core import (
    COMPUTE_AMOUNT,
    MAX_DEPARTMENT,
    QTY_CLASSIC_SCALE,
    QTY_FF46_SCALE,
    TAX_NOT_GIVEN,
    TAX_SYSTEM_BITS,
    DeviceCore,
)
from firmware_sim.state import PAYMENT_TYPES, Item, OpenReceipt, ReceiptKind


class ReceiptCommands(DeviceCore):
    """Receipts, items, closes, cancel and corrections of :class:`~firmware_sim.device.Device`."""

    def _print_line(self, body: bytes) -> bytes:
        """0x17: pwd, flags(1), text(40+); recorded on the open receipt."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        reader.uint(1)  # journal / receipt flags
        text = reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        self._check_not_busy()
        self._check_paper()
        if self._receipt is not None:
            self._receipt = replace(self._receipt, lines=(*self._receipt.lines, text))
        return bytes([op])

    def _add_item(self, op: int, kind: ReceiptKind, item: Item) -> None:
        """Shared tail of 0x80/0x82/FF46 once the fields are valid: the model adds the line."""
        self._check_not_busy()
        assert self._now is not None
        # the model's checks, in the register's order: shift, receipt kind, total, FN, paper
        self.add_item(self._now, kind, item, operator=op)

    def _open_receipt(self, body: bytes) -> bytes:
        """0x8D: pwd, type(1: 0 sale, 2 sale return) -> op."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        receipt_type = reader.uint(1)
        reader.end()
        op, clock = self._begin_sale_document(password)
        kinds = {0: ReceiptKind.SALE, 2: ReceiptKind.REFUND}
        if receipt_type not in kinds:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"receipt type {receipt_type}")
        self._check_fn_alive(clock)
        self._check_paper()
        self._receipt = OpenReceipt(kind=kinds[receipt_type], operator=op)
        return bytes([op])

    def _classic_item(self, body: bytes, kind: ReceiptKind) -> bytes:
        """0x80 / 0x82: pwd, qty(5, x1000), price(5), dept(1), tax1..4, text(40+)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        qty = reader.uint(5)
        price = reader.uint(5)
        department = reader.uint(1)
        taxes = [reader.uint(1) for _ in range(4)]
        text = reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        groups = min(4, len(self._config.tax_rates))
        if qty == 0 or department > MAX_DEPARTMENT or any(t > groups for t in taxes):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "quantity, department or tax group")
        tax_index = next((t for t in taxes if t), 0)
        item = Item(
            name=text,
            qty_micro=qty * (QTY_FF46_SCALE // QTY_CLASSIC_SCALE),
            price=price,
            amount=(qty * price + QTY_CLASSIC_SCALE // 2) // QTY_CLASSIC_SCALE,
            tax_index=tax_index,
            vat=self._config.tax_rates[tax_index - 1].code if tax_index else "none",
            department=department,
        )
        self._add_item(op, kind, item)
        return bytes([op])

    def _sale(self, body: bytes) -> bytes:
        """0x80 приход; opens a sale receipt when none is open."""
        return self._classic_item(body, ReceiptKind.SALE)

    def _sale_return(self, body: bytes) -> bytes:
        """0x82 возврат прихода; opens a return receipt when none is open."""
        return self._classic_item(body, ReceiptKind.REFUND)

    def _fn_operation_v2(self, body: bytes) -> bytes:
        """FF46: op type, qty(6), price, amount, tax sum, tax index, dept, 1214, 1212, name."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        op_type = reader.uint(1)
        qty = reader.uint(6)
        price = reader.uint(5)
        amount = reader.uint(5)
        tax_sum = reader.uint(5)  # kept on the line; signed as sent in tax mode 1 only
        tax_index = reader.uint(1)
        department = reader.uint(1)
        method = reader.uint(1)
        subject = reader.uint(1)
        name = reader.text(max_bytes=128)
        op = self._operator(password)
        kinds = {1: ReceiptKind.SALE, 2: ReceiptKind.REFUND}
        computed = (price * qty + QTY_FF46_SCALE // 2) // QTY_FF46_SCALE
        if amount == COMPUTE_AMOUNT:
            amount = computed
        if (
            op_type not in kinds
            or qty == 0
            or abs(amount - computed) > 1
            or not 1 <= tax_index <= len(self._config.tax_rates)
            or department > MAX_DEPARTMENT
            or not 1 <= method <= 7
            or not 1 <= subject <= 33
        ):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "FF46 field out of range")
        item = Item(
            name=name,
            qty_micro=qty,
            price=price,
            amount=amount,
            tax_index=tax_index,
            vat=self._config.tax_rates[tax_index - 1].code,
            department=department,
            method=method,
            subject=subject,
            tax_sum=None if tax_sum == TAX_NOT_GIVEN else tax_sum,
        )
        self._add_item(op, kinds[op_type], item)
        return b""

    def _fn_begin_correction(self, body: bytes) -> bytes:
        """FF35: begin a correction receipt; FF46 lines, FF0C 1173/1174 and FF45 follow."""
        password = self._password_only(body, error=ErrorCode.FN_BAD_PARAMETERS)
        op, clock = self._begin_sale_document(password)
        self._operator(password, sysadmin=True)
        self._check_fn_alive(clock)
        self._check_paper()
        self._receipt = OpenReceipt(kind=ReceiptKind.SALE, operator=op, is_correction=True)
        return b""

    def _close_receipt(self, body: bytes) -> bytes:
        """0x85: pwd, cash, pay2..4 (5 each), discount(2), tax1..4, text -> op, change(5)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        payments = [reader.uint(5) for _ in range(4)]
        discount = reader.uint(2)
        taxes = [reader.uint(1) for _ in range(4)]
        reader.text(min_bytes=MIN_TEXT_BYTES)
        op = self._operator(password)
        self._check_not_busy()
        receipt = self._receipt
        if receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        clock = self._clock()
        if self._is_expired(clock):
            raise Refusal(ErrorCode.SHIFT_OVER_24H, "shift open for more than 24 hours")
        if discount or any(t > min(4, len(self._config.tax_rates)) for t in taxes):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "discount on close or tax group")
        total = receipt.total
        all_payments = payments + [0] * (PAYMENT_TYPES - len(payments))
        change = self._check_payments(receipt, total, all_payments)
        self._check_fn_alive(clock)
        self._check_paper()
        if receipt.is_correction:
            check_correction_tags(receipt.tags)
        self._issue_receipt(total, all_payments, change, None)
        return bytes([op]) + le(change, 5)

    def _fn_close_receipt_v2(self, body: bytes) -> bytes:
        """FF45 v1.17: 16 payments, rounding, 6 taxes, tax system, text -> change, FD, FP, time."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        payments = [reader.uint(5) for _ in range(PAYMENT_TYPES)]
        rounding = reader.uint(1)
        for _ in range(6):
            reader.uint(5)  # receipt tax sums: ignored (tax mode 0 computes, 1 adds the lines)
        tax_system = reader.uint(1)
        reader.text(max_bytes=64)
        self._operator(password, sysadmin=True)
        self._check_not_busy()
        receipt = self._receipt
        if receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        clock = self._clock()
        if self._is_expired(clock):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        is_one_bit = tax_system & TAX_SYSTEM_BITS == tax_system and tax_system.bit_count() == 1
        if rounding > 99 or rounding > receipt.total or not is_one_bit:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "rounding or tax system")
        total = receipt.total - rounding
        change = self._check_payments(receipt, total, payments)
        self._check_fn_alive(clock)
        self._check_paper()
        if receipt.is_correction:
            check_correction_tags(receipt.tags)
        doc = self._issue_receipt(total, payments, change, tax_system)
        return le(change, 5) + le(doc.fd, 4) + le(doc.fp, 4) + fn_datetime(doc.issued_at)

    def _cancel_receipt(self, body: bytes) -> bytes:
        """0x88: drops the open receipt; no FD."""
        op = self._operator(self._password_only(body))
        self._check_not_busy()
        if self._receipt is None:
            raise Refusal(ErrorCode.RECEIPT_CLOSED, "no receipt open")
        self._check_paper()
        self._do_cancel_receipt()
        return bytes([op])
