"""Register status commands, pure: 0x10, 0x11, 0xFC and 0xB0.

0x10 short status, 0x11 full status, 0xFC device type and 0xB0 continue printing (the way out
of printer submode 3), with the mode, submode and status-flag enums those answers carry
(docs/shtrih-wire-notes.md §2.1-§2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, IntFlag
from typing import ClassVar

from agent.drivers.shtrih.commands._layout import YEAR_BASE, OperatorResponse, enum_or_int
from agent.drivers.shtrih.wire import (
    MAX_U16,
    MAX_U32,
    TEXT_ENCODING,
    Command,
    PasswordRequest,
    Reader,
)

__all__ = [
    "ContinuePrintRequest",
    "ContinuePrintResponse",
    "Mode",
    "ReadDeviceTypeRequest",
    "ReadDeviceTypeResponse",
    "ReadShortStatusRequest",
    "ReadShortStatusResponse",
    "ReadStatusRequest",
    "ReadStatusResponse",
    "StatusFlags",
    "Submode",
    "decode_device_type",
    "decode_short_status",
    "decode_status",
]


class Mode(IntEnum):
    """Register mode, the low nibble of the mode byte (§2.4)."""

    WORKING = 0
    DATA_OUTPUT = 1
    SHIFT_OPEN = 2
    SHIFT_EXPIRED = 3  # open for more than 24 hours: only a Z report is possible
    SHIFT_CLOSED = 4
    LOCKED_BAD_TAX_PASSWORD = 5
    AWAITING_DATE_CONFIRMATION = 6
    DECIMAL_POINT_CHANGE = 7
    DOCUMENT_OPEN = 8
    TECHNOLOGICAL_RESET = 9
    TEST_RUN = 10
    FULL_FISCAL_REPORT = 11
    EKLZ_REPORT = 12
    SLIP_13 = 13
    SLIP_14 = 14
    SLIP_15 = 15


class Submode(IntEnum):
    """Printer submode (§2.4)."""

    READY = 0  # paper present
    PAPER_OUT_PASSIVE = 1  # idle, no paper
    PAPER_OUT_ACTIVE = 2  # paper ran out while printing
    AWAITING_CONTINUE = 3  # paper back after an active paper out: send 0xB0
    PRINTING_REPORT = 4
    PRINTING = 5


class StatusFlags(IntFlag):
    """The 16 status flags of 0x10 and 0x11 (§2.2)."""

    JOURNAL_ROLL = 1 << 0
    RECEIPT_ROLL = 1 << 1
    SLIP_UPPER_SENSOR = 1 << 2
    SLIP_LOWER_SENSOR = 1 << 3
    TWO_DECIMALS = 1 << 4
    EKLZ_PRESENT = 1 << 5
    JOURNAL_PAPER = 1 << 6
    RECEIPT_PAPER = 1 << 7  # receipt optical sensor: 1 = paper present
    JOURNAL_LEVER_DOWN = 1 << 8
    RECEIPT_LEVER_DOWN = 1 << 9
    COVER_OPEN = 1 << 10
    DRAWER_OPEN = 1 << 11
    RIGHT_SENSOR = 1 << 12  # model-specific
    LEFT_SENSOR = 1 << 13  # model-specific
    EKLZ_ALMOST_FULL = 1 << 14
    BUFFER_NOT_EMPTY = 1 << 15  # model-specific


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShortStatusRequest(PasswordRequest):
    """0x10 Короткий запрос состояния (§2.2).

    ::

        10 | password u32
    """

    command: ClassVar[Command] = Command.READ_SHORT_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShortStatusResponse:
    """0x10 answer, 15 bytes after the code (+1 on some models) (§2.2).

    ::

        err | operator | flags u16 | mode (lo: mode, hi: status) | submode | ops lo
            | battery | supply | FP error | EKLZ error | ops hi | reserved x3 [| last print]
    """

    operator: int
    flags: StatusFlags
    mode: Mode | int
    mode_status: int
    submode: Submode | int
    operations: int
    battery_voltage_raw: int
    supply_voltage_raw: int
    fp_error: int
    eklz_error: int
    last_print_result: int | None = None


def decode_short_status(r: Reader) -> ReadShortStatusResponse:
    """The 0x10 answer body after the error byte."""
    operator = r.uint(1, "operator")
    flags = StatusFlags(r.uint(2, "flags"))
    mode_byte = r.uint(1, "mode")
    submode = r.uint(1, "submode")
    ops_low = r.uint(1, "operations low byte")
    battery = r.uint(1, "battery voltage")
    supply = r.uint(1, "supply voltage")
    fp_error = r.uint(1, "FP error")
    eklz_error = r.uint(1, "EKLZ error")
    ops_high = r.uint(1, "operations high byte")
    r.take(3, "reserved")
    last_print = r.uint(1, "last print result") if r.remaining else None
    r.done()
    return ReadShortStatusResponse(
        operator=operator,
        flags=flags,
        mode=enum_or_int(Mode, mode_byte & 0x0F),
        mode_status=mode_byte >> 4,
        submode=enum_or_int(Submode, submode),
        operations=ops_high << 8 | ops_low,
        battery_voltage_raw=battery,
        supply_voltage_raw=supply,
        fp_error=fp_error,
        eklz_error=eklz_error,
        last_print_result=last_print,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStatusRequest(PasswordRequest):
    """0x11 Запрос состояния (§2.3).

    ::

        11 | password u32
    """

    command: ClassVar[Command] = Command.READ_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStatusResponse:
    """0x11 answer, 46 bytes after the code (+2 or +4 on some models) (§2.3).

    ``clock`` is the register's local wall time, naive; ``serial`` is ``None`` when the
    factory number was never set (FFh x 4), ``inn`` when the INN was not entered (FFh x 6).

    ::

        err | operator | fw version 2 chars | fw build u16 | fw date DMY | hall number
            | document number u16 | flags u16 | mode | submode | port | FP version 2 chars
            | FP build u16 | FP date DMY | date DMY | time HMS | FP flags | serial u32
            | last closed shift u16 | free FP records u16 | reregistrations done
            | reregistrations left | INN u48 [| FP flags hi | FP mode | serial hi u16]
    """

    operator: int
    firmware_version: str
    firmware_build: int
    firmware_date: date | None
    hall_number: int
    document_number: int
    flags: StatusFlags
    mode: Mode | int
    mode_status: int
    submode: Submode | int
    port: int
    clock: datetime
    fp_flags: int
    serial: int | None
    last_closed_shift: int
    reregistrations_done: int
    reregistrations_left: int
    inn: int | None


def decode_status(r: Reader) -> ReadStatusResponse:
    """The 0x11 answer body after the error byte."""
    operator = r.uint(1, "operator")
    firmware_version = r.take(2, "firmware version").decode(TEXT_ENCODING, errors="replace")
    firmware_build = r.uint(2, "firmware build")
    firmware_date = r.dmy_date_or_none("firmware date")
    hall_number = r.uint(1, "hall number")
    document_number = r.uint(2, "document number")
    flags = StatusFlags(r.uint(2, "flags"))
    mode_byte = r.uint(1, "mode")
    submode = r.uint(1, "submode")
    port = r.uint(1, "port")
    r.take(2 + 2 + 3, "FP version, build and date")
    raw_date = r.take(3, "date")
    raw_time = r.take(3, "time")
    try:
        clock = datetime(  # noqa: DTZ001 the register's wall time; the driver attaches its zone
            YEAR_BASE + raw_date[2],
            raw_date[1],
            raw_date[0],
            raw_time[0],
            raw_time[1],
            raw_time[2],
        )
    except ValueError as exc:
        detail = f"register clock is not a date-time: {(raw_date + raw_time).hex(' ')}"
        raise r.malformed(detail) from exc
    fp_flags = r.uint(1, "FP flags")
    serial_low = r.uint(4, "serial number")
    last_closed_shift = r.uint(2, "last closed shift")
    r.take(2, "free FP records")
    reregistrations_done = r.uint(1, "re-registrations done")
    reregistrations_left = r.uint(1, "re-registrations left")
    inn = r.uint(6, "INN")
    serial: int | None = None if serial_low == MAX_U32 else serial_low
    if r.remaining >= 4:
        r.take(2, "FP flags high byte and FP mode")
        serial_high = r.uint(2, "serial number high word")
        if serial is not None and serial_high != MAX_U16:
            serial |= serial_high << 32
    elif r.remaining == 2:
        r.take(2, "FP flags high byte and FP mode")
    r.done()
    return ReadStatusResponse(
        operator=operator,
        firmware_version=firmware_version,
        firmware_build=firmware_build,
        firmware_date=firmware_date,
        hall_number=hall_number,
        document_number=document_number,
        flags=flags,
        mode=enum_or_int(Mode, mode_byte & 0x0F),
        mode_status=mode_byte >> 4,
        submode=enum_or_int(Submode, submode),
        port=port,
        clock=clock,
        fp_flags=fp_flags,
        serial=serial,
        last_closed_shift=last_closed_shift,
        reregistrations_done=reregistrations_done,
        reregistrations_left=reregistrations_left,
        inn=None if inn == (1 << 48) - 1 else inn,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDeviceTypeRequest:
    """0xFC Получить тип устройства: no password (§2.1).

    ::

        FC
    """

    command: ClassVar[Command] = Command.READ_DEVICE_TYPE

    def body(self) -> bytes:
        """The data after the command code."""
        return b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDeviceTypeResponse:
    """0xFC answer (§2.1).

    ::

        err | type | subtype | protocol version | protocol subversion | model | language
            | name cp1251 (rest of the frame)
    """

    device_type: int
    subtype: int
    protocol_version: int
    protocol_subversion: int
    model: int
    language: int
    name: str


def decode_device_type(r: Reader) -> ReadDeviceTypeResponse:
    """The 0xFC answer body after the error byte."""
    head = r.take(6, "type, subtype, protocol, model and language")
    name = r.rest().split(b"\0", 1)[0].decode(TEXT_ENCODING, errors="replace")
    return ReadDeviceTypeResponse(
        device_type=head[0],
        subtype=head[1],
        protocol_version=head[2],
        protocol_subversion=head[3],
        model=head[4],
        language=head[5],
        name=name.strip(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinuePrintRequest(PasswordRequest):
    """0xB0 Продолжение печати: resume after paper was loaded (§2.1, submode 3).

    ::

        B0 | password u32
    """

    command: ClassVar[Command] = Command.CONTINUE_PRINT


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinuePrintResponse(OperatorResponse):
    """0xB0 answer: ``err | operator`` (§2.1)."""
