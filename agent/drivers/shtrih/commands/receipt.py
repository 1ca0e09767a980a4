"""Receipt commands, pure: FF46 item line, FF45 close and 0x88 cancel.

The first FF46 opens the receipt (docs/shtrih-wire-notes.md §2.7, §2.8). The receipt's FFD
tags travel with FF0C (:mod:`.tlv`); a correction receipt opens with FF35 (:mod:`.correction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import ClassVar, Final

from agent.drivers.shtrih.commands._layout import MAX_MONEY, MONEY_BYTES, OperatorResponse
from agent.drivers.shtrih.wire import (
    MAX_U8,
    Command,
    PasswordRequest,
    Reader,
    check_range,
    padded_text,
    password_bytes,
)

__all__ = [
    "FN_PAYMENT_TYPES",
    "FN_TAX_SUMS",
    "MAX_FF45_TEXT_BYTES",
    "MAX_FF46_NAME_BYTES",
    "NOT_GIVEN",
    "AddOperationRequest",
    "AddOperationResponse",
    "CancelReceiptRequest",
    "CancelReceiptResponse",
    "CloseReceiptRequest",
    "CloseReceiptResponse",
    "OperationType",
    "decode_close_receipt",
]

MAX_FF46_NAME_BYTES: Final = 128
"""FF46 item name: 0..128 bytes cp1251, sent padded with NUL to 128 (frame LEN 160, §2.8)."""
MAX_FF45_TEXT_BYTES: Final = 64
"""FF45 closing text: 0..64 bytes cp1251, sent padded with NUL to 64 (frame LEN 182, §2.8)."""
FN_PAYMENT_TYPES: Final = 16
"""FF45 carries sums for payment types 1..16 (§2.8)."""
FN_TAX_SUMS: Final = 6
"""FF45 carries six tax sums (§2.8)."""
NOT_GIVEN: Final = 0xFF_FF_FF_FF_FF
"""A 5-byte money field of all FFh: "not given, the register computes it" (FF46, §2.8)."""
_MAX_QTY = 0xFF_FF_FF_FF_FF_FF


class OperationType(IntEnum):
    """FF46 operation type and FF0A receipt operation, tag 1054 (§2.8)."""

    INCOME = 1  # приход
    INCOME_RETURN = 2  # возврат прихода
    EXPENSE = 3  # расход
    EXPENSE_RETURN = 4  # возврат расхода


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOperationRequest(PasswordRequest):
    """FF46 Операция V2: one receipt line; the first one opens the receipt (§2.8), LEN 160.

    ``quantity`` is in millionths; ``amount`` and ``tax_amount`` of ``None`` travel as
    FFh x 5 ("the register computes it"). ``tax_rate`` is the index into the register's tax
    table. ``payment_method`` is tag 1214 and ``payment_subject`` tag 1212.

    ::

        FF 46 | password u32 | operation u8 | quantity u48 (x 10^6) | price u40 | amount u40
              | tax amount u40 | tax rate u8 | department u8 | method u8 (1214)
              | subject u8 (1212) | name cp1251, NUL-padded to 128
    """

    command: ClassVar[Command] = Command.ADD_OPERATION
    operation: OperationType
    quantity: int
    price: int
    amount: int | None
    tax_amount: int | None = None
    tax_rate: int
    department: int = 1
    payment_method: int
    payment_subject: int
    name: str

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.quantity, 0, _MAX_QTY, "quantity")
        check_range(self.price, 0, MAX_MONEY, "price")
        for field, value in (("amount", self.amount), ("tax_amount", self.tax_amount)):
            if value is not None:
                check_range(value, 0, MAX_MONEY - 1, field)
        for field, value in (
            ("operation", int(self.operation)),
            ("tax_rate", self.tax_rate),
            ("department", self.department),
            ("payment_method", self.payment_method),
            ("payment_subject", self.payment_subject),
        ):
            check_range(value, 0, MAX_U8, field)
        padded_text(self.name, MAX_FF46_NAME_BYTES, "name")

    def body(self) -> bytes:
        """The data after the command code."""
        amount = NOT_GIVEN if self.amount is None else self.amount
        tax_amount = NOT_GIVEN if self.tax_amount is None else self.tax_amount
        return b"".join(
            [
                password_bytes(self.password),
                bytes([self.operation]),
                self.quantity.to_bytes(6, "little"),
                self.price.to_bytes(MONEY_BYTES, "little"),
                amount.to_bytes(MONEY_BYTES, "little"),
                tax_amount.to_bytes(MONEY_BYTES, "little"),
                bytes([self.tax_rate, self.department, self.payment_method, self.payment_subject]),
                padded_text(self.name, MAX_FF46_NAME_BYTES, "name"),
            ]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOperationResponse:
    """FF46 answer: ``err`` only (§2.8)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseReceiptRequest(PasswordRequest):
    """FF45 Закрытие чека расширенное вариант №2, v1.17 layout, LEN 182 (§2.8).

    ``payments[i]`` is the sum of payment type ``i + 1``: 1 cash, 2 electronic, 14 prepayment.
    ``taxes`` are the six tax sums (ignored in tax mode 0, where the register computes them).
    ``tax_system`` is a tag-1055 bit mask with exactly one bit set.

    ::

        FF 45 | password u32 | sum type 1 u40 | ... | sum type 16 u40 | rounding u8 (0..99)
              | tax 1 u40 | ... | tax 6 u40 | tax system u8 | text cp1251, NUL-padded to 64
    """

    command: ClassVar[Command] = Command.CLOSE_RECEIPT
    payments: tuple[int, ...]
    rounding: int = 0
    taxes: tuple[int, ...] = (0,) * FN_TAX_SUMS
    tax_system: int
    text: str = ""

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        if len(self.payments) != FN_PAYMENT_TYPES:
            msg = f"payments must hold {FN_PAYMENT_TYPES} sums, got {len(self.payments)}"
            raise ValueError(msg)
        if len(self.taxes) != FN_TAX_SUMS:
            msg = f"taxes must hold {FN_TAX_SUMS} sums, got {len(self.taxes)}"
            raise ValueError(msg)
        for index, value in enumerate((*self.payments, *self.taxes)):
            check_range(value, 0, MAX_MONEY, f"sum #{index}")
        check_range(self.rounding, 0, 99, "rounding")
        if self.tax_system <= 0 or self.tax_system > MAX_U8 or self.tax_system.bit_count() != 1:
            msg = f"tax_system must have exactly one bit set, got {self.tax_system:#x}"
            raise ValueError(msg)
        padded_text(self.text, MAX_FF45_TEXT_BYTES, "text")

    def body(self) -> bytes:
        """The data after the command code."""
        return b"".join(
            [
                password_bytes(self.password),
                *(value.to_bytes(MONEY_BYTES, "little") for value in self.payments),
                bytes([self.rounding]),
                *(value.to_bytes(MONEY_BYTES, "little") for value in self.taxes),
                bytes([self.tax_system]),
                padded_text(self.text, MAX_FF45_TEXT_BYTES, "text"),
            ]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseReceiptResponse:
    """FF45 answer (§2.8): ``err | change u40 | FD u32 | fiscal sign u32 [| YY MM DD HH MM]``."""

    change: int
    fd: int
    fp: int
    issued_at: datetime | None = None


def decode_close_receipt(r: Reader) -> CloseReceiptResponse:
    """The FF45 answer body after the error byte."""
    change = r.uint(MONEY_BYTES, "change")
    fd = r.uint(4, "FD")
    fp = r.uint(4, "fiscal sign")
    issued_at = r.fn_datetime("date-time") if r.remaining else None
    r.done()
    return CloseReceiptResponse(change=change, fd=fd, fp=fp, issued_at=issued_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReceiptRequest(PasswordRequest):
    """0x88 Аннулирование чека (§2.7).

    ::

        88 | password u32
    """

    command: ClassVar[Command] = Command.CANCEL_RECEIPT


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReceiptResponse(OperatorResponse):
    """0x88 answer: ``err | operator`` (§1.2, real capture)."""
