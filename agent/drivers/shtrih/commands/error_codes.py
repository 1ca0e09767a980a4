"""Shtrih error bytes and the short error answer ``CMD ERR``, pure.

Error codes below 0x20 carry the FN meaning (:class:`FnErrorCode`) on the FN-era registers
this codec serves; codes from 0x20 up are :class:`DeviceErrorCode`; a code neither enum knows
stays a plain ``int`` (docs/shtrih-wire-notes.md §2.11). :class:`ErrorResponse` is the answer
to any command whose error byte is not zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from agent.drivers.shtrih.wire import Command

__all__ = [
    "FN_ERROR_LIMIT",
    "DeviceErrorCode",
    "ErrorCode",
    "ErrorResponse",
    "FnErrorCode",
    "interpret_error",
]

FN_ERROR_LIMIT: Final = 0x20
"""Error codes below this carry the FN meaning on FN-era registers (§2.11)."""


class FnErrorCode(IntEnum):
    """Errors of the FN, codes below 0x20 on FN-era registers (§2.11)."""

    UNKNOWN_COMMAND = 0x01  # Неизвестная команда, неверный формат посылки
    WRONG_FN_STATE = 0x02
    FN_FAILURE = 0x03
    CRYPTO_FAILURE = 0x04  # Ошибка КС
    FN_EXPIRED = 0x05  # Закончен срок эксплуатации ФН
    ARCHIVE_FULL = 0x06
    BAD_DATE_TIME = 0x07
    NO_DATA = 0x08  # Нет запрошенных данных
    BAD_PARAMETER = 0x09
    TLV_TOO_LARGE = 0x10
    NO_TRANSPORT = 0x11
    CRYPTO_RESOURCE_EXHAUSTED = 0x12
    STORAGE_EXHAUSTED = 0x14
    OFD_WAIT_EXHAUSTED = 0x15  # Исчерпан ресурс ожидания передачи сообщения
    SHIFT_OVER_24H = 0x16
    BAD_TIME_DIFFERENCE = 0x17


class DeviceErrorCode(IntEnum):
    """Errors of the register (codes from 0x20 up) that this driver names (§2.11)."""

    REGISTER_OVERFLOW = 0x20
    FN_TIMEOUT = 0x2F  # spec117: Таймаут обмена с ФН
    FN_NOT_RESPONDING = 0x30
    BAD_PARAMETERS = 0x33
    NO_DATA = 0x34
    BAD_PARAMETER_FOR_SETTINGS = 0x35
    BAD_PARAMETERS_FOR_MODEL = 0x36
    COMMAND_NOT_SUPPORTED = 0x37
    SHIFT_NOT_OPEN = 0x3D
    DISCOUNT_RANGE_OVERFLOW = 0x40
    CASH_RANGE_OVERFLOW = 0x41
    PAYMENT_2_RANGE_OVERFLOW = 0x42
    PAYMENT_3_RANGE_OVERFLOW = 0x43
    PAYMENT_4_RANGE_OVERFLOW = 0x44
    PAYMENTS_BELOW_TOTAL = 0x45
    NOT_ENOUGH_CASH = 0x46
    RECEIPT_TOTAL_OVERFLOW = 0x48
    NOT_IN_THIS_RECEIPT_TYPE = 0x49
    RECEIPT_OPEN = 0x4A
    RECEIPT_BUFFER_FULL = 0x4B
    NON_CASH_ABOVE_TOTAL = 0x4D
    SHIFT_OVER_24H = 0x4E
    WRONG_PASSWORD = 0x4F
    PRINTING_PREVIOUS = 0x50
    RECEIPT_CLOSED = 0x55
    AWAITING_CONTINUE_PRINT = 0x58
    OPENED_BY_ANOTHER_OPERATOR = 0x59
    DISCOUNT_ABOVE_TOTAL = 0x5A
    TABLE_NOT_DEFINED = 0x5D  # Таблица не определена
    WRONG_OPERATION = 0x5E
    NEGATIVE_TOTAL = 0x5F
    MULTIPLICATION_OVERFLOW = 0x60
    PRICE_RANGE_OVERFLOW = 0x61
    QUANTITY_RANGE_OVERFLOW = 0x62
    DEPARTMENT_RANGE_OVERFLOW = 0x63
    NO_RECEIPT_PAPER = 0x6B
    NO_JOURNAL_PAPER = 0x6C
    CUTTER_FAILURE = 0x71
    NOT_IN_THIS_SUBMODE = 0x72
    NOT_IN_THIS_MODE = 0x73
    BAD_DATE_FORMAT = 0x7D
    BAD_LENGTH = 0x7E
    RECEIPT_TOTAL_RANGE_OVERFLOW = 0x7F
    ZERO_TOTAL = 0x8E
    NOT_FISCALIZED = 0x8F
    FIELD_TOO_LONG = 0x90
    OPERATION_LIMIT = 0x94
    DO_Z_REPORT = 0x96
    PRINTER_CONNECTION = 0xC8


ErrorCode = FnErrorCode | DeviceErrorCode | int
"""A device error code: named when we know it, a plain int when we do not."""


def interpret_error(code: int) -> ErrorCode:
    """Name an error byte: FN meaning below 0x20, register meaning above, else the raw int."""
    if code < FN_ERROR_LIMIT:
        return FnErrorCode(code) if code in _FN_CODES else code
    return DeviceErrorCode(code) if code in _DEVICE_CODES else code


_FN_CODES = frozenset(int(c) for c in FnErrorCode)
_DEVICE_CODES = frozenset(int(c) for c in DeviceErrorCode)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorResponse:
    """Any command answered with a non-zero error byte: ``CMD ERR`` (§1.2, §2.11)."""

    command: Command | int
    code: ErrorCode
