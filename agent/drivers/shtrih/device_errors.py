"""Register error answers -> the typed DeviceError subclasses of agent/drivers/errors.py."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.errors import (
    CommandNotSupported,
    DeviceError,
    FnFailure,
    InvalidArgument,
    NotEnoughCash,
    PaperOut,
    PrinterBusy,
    ReceiptAlreadyOpen,
    ReceiptNotOpen,
    ShiftExpired,
    ShiftNotOpen,
    WrongPassword,
)
from agent.drivers.shtrih.commands import (
    Command,
    DeviceErrorCode,
    ErrorResponse,
    FnErrorCode,
)

__all__ = ["device_error"]

_DOCUMENT_READS = frozenset(
    {Command.FIND_DOCUMENT, Command.BEGIN_READ_DOCUMENT, Command.READ_DOCUMENT_BLOCK}
)

_PAPER = frozenset({0x58, 0x6B, 0x6C})
_INVALID = frozenset(
    {
        0x33, 0x34, 0x35, 0x36, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x48, 0x4D, 0x5A, 0x5E,
        0x5F, 0x60, 0x61, 0x62, 0x63, 0x7D, 0x7E, 0x7F, 0x8E, 0x90, 0x94,
        FnErrorCode.BAD_PARAMETER, FnErrorCode.TLV_TOO_LARGE,
    }
)  # fmt: skip
_NOT_SUPPORTED = frozenset({0x37, 0x72, 0x73, FnErrorCode.UNKNOWN_COMMAND})
_FN_FAILURES = frozenset(
    {
        FnErrorCode.WRONG_FN_STATE, FnErrorCode.FN_FAILURE, FnErrorCode.CRYPTO_FAILURE,
        FnErrorCode.FN_EXPIRED, FnErrorCode.ARCHIVE_FULL, FnErrorCode.BAD_DATE_TIME,
        FnErrorCode.NO_TRANSPORT, FnErrorCode.CRYPTO_RESOURCE_EXHAUSTED,
        FnErrorCode.STORAGE_EXHAUSTED, FnErrorCode.OFD_WAIT_EXHAUSTED,
        FnErrorCode.BAD_TIME_DIFFERENCE, DeviceErrorCode.FN_TIMEOUT,
        DeviceErrorCode.FN_NOT_RESPONDING,
    }
)  # fmt: skip
_SINGLE: Mapping[int, type[DeviceError]] = MappingProxyType(
    {
        DeviceErrorCode.PRINTING_PREVIOUS: PrinterBusy,
        DeviceErrorCode.SHIFT_OVER_24H: ShiftExpired,
        FnErrorCode.SHIFT_OVER_24H: ShiftExpired,
        DeviceErrorCode.SHIFT_NOT_OPEN: ShiftNotOpen,
        DeviceErrorCode.RECEIPT_OPEN: ReceiptAlreadyOpen,
        DeviceErrorCode.RECEIPT_CLOSED: ReceiptNotOpen,
        DeviceErrorCode.WRONG_PASSWORD: WrongPassword,
        DeviceErrorCode.NOT_ENOUGH_CASH: NotEnoughCash,
    }
)


def device_error(command: int, response: ErrorResponse) -> DeviceError:
    """The typed error for a register's error answer (codes in docs/shtrih-wire-notes.md §2.11)."""
    code = int(response.code)
    name = response.code.name.lower().replace("_", " ") if hasattr(response.code, "name") else ""
    message = name or "unknown error code"
    if code == FnErrorCode.NO_DATA and command in _DOCUMENT_READS:
        # FF0A/FF3A: callers that know the FD raise DocumentNotFound; FF3B: end of document.
        return DeviceError(code, command, message)
    cls: type[DeviceError] = DeviceError
    if code in _PAPER:
        cls = PaperOut
    elif code in _INVALID:
        cls = InvalidArgument
    elif code in _NOT_SUPPORTED:
        cls = CommandNotSupported
    elif code in _FN_FAILURES:
        cls = FnFailure
    else:
        cls = _SINGLE.get(code, DeviceError)
    return cls(code, command, message)
