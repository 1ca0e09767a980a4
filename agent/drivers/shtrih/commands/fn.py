"""FN status commands, pure: FF01, FF03, FF39 and FF3F.

FF01 FN status, FF03 FN expiry, FF39 OFD exchange status and FF3F the count of documents the
OFD has not confirmed (docs/shtrih-wire-notes.md §2.1, §2.9). FF38, the calculation-state
report, is in :mod:`.state_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, IntFlag
from typing import ClassVar

from agent.drivers.shtrih.commands._layout import YEAR_BASE, enum_or_int
from agent.drivers.shtrih.wire import Command, PasswordRequest, Reader

__all__ = [
    "FnDocument",
    "FnLifePhase",
    "FnWarningFlags",
    "OfdExchangeFlags",
    "ReadExchangeStatusRequest",
    "ReadExchangeStatusResponse",
    "ReadFnExpiryRequest",
    "ReadFnExpiryResponse",
    "ReadFnStatusRequest",
    "ReadFnStatusResponse",
    "ReadUnconfirmedCountRequest",
    "ReadUnconfirmedCountResponse",
    "decode_exchange_status",
    "decode_fn_expiry",
    "decode_fn_status",
    "decode_unconfirmed_count",
]

_FN_SERIAL_BYTES = 16


class FnLifePhase(IntFlag):
    """FF01 byte 1: the FN's life phase bits; 3 is a normal working FN (§2.9)."""

    CONFIGURED = 0x01
    FISCAL_MODE_OPEN = 0x02
    FISCAL_MODE_CLOSED = 0x04
    OFD_TRANSFER_DONE = 0x08


class FnDocument(IntEnum):
    """FF01 byte 2: the document the FN is building right now (§2.9)."""

    NONE = 0x00
    REGISTRATION = 0x01
    OPEN_SHIFT = 0x02
    RECEIPT = 0x04
    CLOSE_SHIFT = 0x08
    CLOSE_FISCAL_MODE = 0x10
    BSO = 0x11
    REREGISTRATION_NEW_FN = 0x12
    REREGISTRATION = 0x13
    CORRECTION_RECEIPT = 0x14
    CORRECTION_BSO = 0x15
    CALCULATION_STATE = 0x17


class FnWarningFlags(IntFlag):
    """FF01 byte 5: FN warnings (§2.9, pyshtrih's bit names)."""

    URGENT_REPLACEMENT = 0x01
    RESOURCE_ENDING = 0x02
    MEMORY_90_PERCENT = 0x04
    OFD_TIMEOUT = 0x08
    CRITICAL = 0x80


class OfdExchangeFlags(IntFlag):
    """FF39 byte 1: the state of the exchange with the OFD (§2.9)."""

    TRANSPORT_CONNECTED = 0x01
    MESSAGE_WAITING = 0x02
    AWAITING_TICKET = 0x04
    OFD_COMMAND = 0x08
    OFD_SETTINGS_CHANGED = 0x10
    AWAITING_COMMAND_ANSWER = 0x20


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnStatusRequest(PasswordRequest):
    """FF01 Запрос статуса ФН (§2.9).

    ::

        FF 01 | password u32
    """

    command: ClassVar[Command] = Command.READ_FN_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnStatusResponse:
    """FF01 answer, 31 bytes after the code (§2.9, real capture in §1.2).

    ``at`` is the date-time of the last document, ``None`` if the FN reports none.

    ::

        err | life phase | current document | document data (0/1) | shift open (0/1)
            | warnings | YY MM DD HH MM | FN serial, 16 ASCII | last FD u32
    """

    life_phase: FnLifePhase
    current_document: FnDocument | int
    has_document_data: bool
    is_shift_open: bool
    warnings: FnWarningFlags
    at: datetime | None
    fn_serial: str
    last_fd: int


def decode_fn_status(r: Reader) -> ReadFnStatusResponse:
    """The FF01 answer body after the error byte."""
    life_phase = FnLifePhase(r.uint(1, "life phase"))
    current_document = enum_or_int(FnDocument, r.uint(1, "current document"))
    has_document_data = r.flag("document data")
    is_shift_open = r.flag("shift state")
    warnings = FnWarningFlags(r.uint(1, "warnings"))
    at = r.fn_datetime_or_none("date-time")
    raw_serial = r.take(_FN_SERIAL_BYTES, "FN serial")
    try:
        fn_serial = raw_serial.decode("ascii")
    except UnicodeDecodeError as exc:
        raise r.malformed(f"FN serial is not ASCII: {raw_serial.hex(' ')}") from exc
    last_fd = r.uint(4, "last FD")
    r.done()
    return ReadFnStatusResponse(
        life_phase=life_phase,
        current_document=current_document,
        has_document_data=has_document_data,
        is_shift_open=is_shift_open,
        warnings=warnings,
        at=at,
        fn_serial=fn_serial.rstrip("\0 "),
        last_fd=last_fd,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnExpiryRequest(PasswordRequest):
    """FF03 Запрос срока действия ФН (§2.1).

    ::

        FF 03 | password u32
    """

    command: ClassVar[Command] = Command.READ_FN_EXPIRY


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnExpiryResponse:
    """FF03 answer: ``err | YY MM DD [| re-registrations left | done]`` (§2.1)."""

    valid_until: date
    reregistrations_left: int | None = None
    reregistrations_done: int | None = None


def decode_fn_expiry(r: Reader) -> ReadFnExpiryResponse:
    """The FF03 answer body after the error byte."""
    raw = r.take(3, "expiry date")
    try:
        valid_until = date(YEAR_BASE + raw[0], raw[1], raw[2])
    except ValueError as exc:
        raise r.malformed(f"expiry is not a date: {raw.hex(' ')}") from exc
    left = done = None
    if r.remaining:
        left = r.uint(1, "re-registrations left")
        done = r.uint(1, "re-registrations done")
    r.done()
    return ReadFnExpiryResponse(
        valid_until=valid_until, reregistrations_left=left, reregistrations_done=done
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadExchangeStatusRequest(PasswordRequest):
    """FF39 Получить статус информационного обмена (§2.9).

    ::

        FF 39 | password u32
    """

    command: ClassVar[Command] = Command.READ_EXCHANGE_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadExchangeStatusResponse:
    """FF39 answer, 14 bytes after the code (§2.9).

    ``first_queued_at`` is ``None`` when nothing waits (the register sends zeros then).

    ::

        err | status bits | reading a message (0/1) | queued u16 | first queued FD u32
            | YY MM DD HH MM
    """

    status: OfdExchangeFlags
    is_reading_message: bool
    queued: int
    first_queued_fd: int
    first_queued_at: datetime | None


def decode_exchange_status(r: Reader) -> ReadExchangeStatusResponse:
    """The FF39 answer body after the error byte."""
    status = OfdExchangeFlags(r.uint(1, "status"))
    is_reading = r.flag("message read state")
    queued = r.uint(2, "queued")
    first_fd = r.uint(4, "first queued FD")
    first_at = r.fn_datetime_or_none("first queued date-time")
    r.done()
    return ReadExchangeStatusResponse(
        status=status,
        is_reading_message=is_reading,
        queued=queued,
        first_queued_fd=first_fd,
        first_queued_at=first_at if queued else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadUnconfirmedCountRequest(PasswordRequest):
    """FF3F Запрос количества ФД, на которые нет квитанции (§2.9).

    ::

        FF 3F | password u32
    """

    command: ClassVar[Command] = Command.READ_UNCONFIRMED_COUNT


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadUnconfirmedCountResponse:
    """FF3F answer: ``err | count u16`` (spec) or ``u32`` (JavaPOS reads 4) (§2.9)."""

    count: int


def decode_unconfirmed_count(r: Reader) -> ReadUnconfirmedCountResponse:
    """The FF3F answer body after the error byte."""
    if r.remaining not in {2, 4}:
        raise r.malformed(f"count must be 2 or 4 bytes, got {r.remaining}")
    return ReadUnconfirmedCountResponse(count=r.uint(r.remaining, "count"))
