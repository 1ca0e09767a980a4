"""Shift commands, pure: FF41 + 0xE0 open, FF42 + 0x41 (Z) close, 0x40 X report, FF40.

FF41 then 0xE0 open a shift, FF42 then 0x41 (the Z report) close it, 0x40 prints an X report
and FF40 reads the current shift's parameters (docs/shtrih-wire-notes.md §2.1, §2.5, §2.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agent.drivers.shtrih.commands._layout import OperatorResponse
from agent.drivers.shtrih.wire import Command, PasswordRequest, Reader

__all__ = [
    "BeginCloseShiftRequest",
    "BeginCloseShiftResponse",
    "BeginOpenShiftRequest",
    "BeginOpenShiftResponse",
    "OpenShiftRequest",
    "OpenShiftResponse",
    "PrintXReportRequest",
    "PrintXReportResponse",
    "PrintZReportRequest",
    "PrintZReportResponse",
    "ReadShiftParamsRequest",
    "ReadShiftParamsResponse",
    "decode_open_shift",
    "decode_shift_params",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginOpenShiftRequest(PasswordRequest):
    """FF41 Начать открытие смены: FF0C tags may follow, then 0xE0 (§2.5).

    ::

        FF 41 | password u32
    """

    command: ClassVar[Command] = Command.BEGIN_OPEN_SHIFT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginOpenShiftResponse:
    """FF41 answer: ``err`` only (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenShiftRequest(PasswordRequest):
    """0xE0 Открыть смену (§2.5).

    ::

        E0 | password u32
    """

    command: ClassVar[Command] = Command.OPEN_SHIFT


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenShiftResponse:
    """0xE0 answer: ``err [| operator]``; spec117 and JavaPOS disagree on the byte (§2.5)."""

    operator: int | None


def decode_open_shift(r: Reader) -> OpenShiftResponse:
    """The 0xE0 answer body after the error byte."""
    operator = r.uint(1, "operator") if r.remaining else None
    r.done()
    return OpenShiftResponse(operator=operator)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShiftParamsRequest(PasswordRequest):
    """FF40 Запрос параметров текущей смены (§2.1).

    ::

        FF 40 | password u32
    """

    command: ClassVar[Command] = Command.READ_SHIFT_PARAMS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShiftParamsResponse:
    """FF40 answer: ``err | shift open (0/1) | shift number u16 | receipt number u16`` (§2.1)."""

    is_shift_open: bool
    shift: int
    receipt_number: int


def decode_shift_params(r: Reader) -> ReadShiftParamsResponse:
    """The FF40 answer body after the error byte."""
    is_open = r.flag("shift state")
    shift = r.uint(2, "shift number")
    receipt_number = r.uint(2, "receipt number")
    r.done()
    return ReadShiftParamsResponse(
        is_shift_open=is_open, shift=shift, receipt_number=receipt_number
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintXReportRequest(PasswordRequest):
    """0x40 Суточный отчёт без гашения (§2.6); administrator or sysadmin password.

    ::

        40 | password u32
    """

    command: ClassVar[Command] = Command.PRINT_X_REPORT


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintXReportResponse(OperatorResponse):
    """0x40 answer: ``err | operator`` (§2.6)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCloseShiftRequest(PasswordRequest):
    """FF42 Начать закрытие смены: FF0C tags may follow, then 0x41 (§2.5).

    ::

        FF 42 | password u32
    """

    command: ClassVar[Command] = Command.BEGIN_CLOSE_SHIFT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCloseShiftResponse:
    """FF42 answer: ``err`` only (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintZReportRequest(PasswordRequest):
    """0x41 Суточный отчёт с гашением: closes the shift (§2.6).

    ::

        41 | password u32
    """

    command: ClassVar[Command] = Command.PRINT_Z_REPORT


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintZReportResponse(OperatorResponse):
    """0x41 answer: ``err | operator`` (§2.6)."""
