"""The simulator's own request decoder and answer encoder (device side of the wire).

Written from docs/shtrih-wire-notes.md §1.5 and §2 independently of the agent's
command codec, so that one misreading of the spec does not hide on both sides (docs/style.md §1).

Answer layout (§1.2)::

    +-----------+-----+------------------+
    | CMD (1|2) | ERR | DATA (ERR == 0)  |
    +-----------+-----+------------------+

When ERR is not zero only ``CMD ERR`` is sent.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum

__all__ = [
    "MIN_TEXT_BYTES",
    "Command",
    "ErrorCode",
    "Refusal",
    "RequestReader",
    "answer",
    "command_bytes",
    "decode_text",
    "dmy",
    "fn_date",
    "fn_datetime",
    "hms",
    "le",
    "parse_tlv",
    "split_command",
]

MIN_TEXT_BYTES = 40
"""Classic text fields (0x17, 0x80, 0x85) are at least 40 bytes; longer is allowed (§1.5)."""


class Command(IntEnum):
    """Command codes the simulator implements (§2.1)."""

    SHORT_STATUS = 0x10
    FULL_STATUS = 0x11
    PRINT_LINE = 0x17
    READ_MONEY_REGISTER = 0x1A
    READ_OPERATING_REGISTER = 0x1B
    WRITE_TABLE = 0x1E
    READ_TABLE = 0x1F
    OPEN_DRAWER = 0x28
    X_REPORT = 0x40
    Z_REPORT = 0x41
    CASH_IN = 0x50
    CASH_OUT = 0x51
    SALE = 0x80
    SALE_RETURN = 0x82
    CLOSE_RECEIPT = 0x85
    CANCEL_RECEIPT = 0x88
    OPEN_RECEIPT = 0x8D
    CONTINUE_PRINT = 0xB0
    OPEN_SHIFT = 0xE0
    DEVICE_TYPE = 0xFC
    FN_STATUS = 0xFF01
    FN_EXPIRY = 0xFF03
    FN_FIND_DOCUMENT = 0xFF0A
    FN_WRITE_TLV = 0xFF0C
    FN_BEGIN_CORRECTION = 0xFF35
    FN_STATE_REPORT = 0xFF38
    FN_EXCHANGE_STATUS = 0xFF39
    FN_READ_DOCUMENT = 0xFF3A
    FN_READ_TLV = 0xFF3B
    FN_UNCONFIRMED_COUNT = 0xFF3F
    FN_SHIFT_PARAMS = 0xFF40
    FN_BEGIN_OPEN_SHIFT = 0xFF41
    FN_BEGIN_CLOSE_SHIFT = 0xFF42
    FN_CLOSE_RECEIPT_V2 = 0xFF45
    FN_OPERATION_V2 = 0xFF46


class ErrorCode(IntEnum):
    """Error codes the simulator answers with (§2.11); 0x01…0x20 are FN codes."""

    OK = 0x00
    FN_UNKNOWN_COMMAND = 0x01
    FN_BAD_STATE = 0x02
    FN_EXPIRED = 0x05
    FN_NO_DATA = 0x08
    FN_BAD_PARAMETERS = 0x09
    FN_TLV_TOO_BIG = 0x10
    FN_SHIFT_OVER_24H = 0x16
    BAD_PARAMETERS = 0x33
    NOT_SUPPORTED = 0x37
    INTERNAL_ERROR = 0x39
    SHIFT_NOT_OPEN = 0x3D
    PAYMENTS_BELOW_TOTAL = 0x45
    NOT_ENOUGH_CASH = 0x46
    RECEIPT_TOTAL_OVERFLOW = 0x48
    WRONG_RECEIPT_TYPE = 0x49
    RECEIPT_OPEN = 0x4A
    NON_CASH_ABOVE_TOTAL = 0x4D
    SHIFT_OVER_24H = 0x4E
    WRONG_PASSWORD = 0x4F
    PRINTING = 0x50
    RECEIPT_CLOSED = 0x55
    WAITING_CONTINUE_PRINT = 0x58
    TABLE_NOT_DEFINED = 0x5D
    NO_PAPER = 0x6B
    NOT_IN_THIS_MODE = 0x73
    ZERO_TOTAL = 0x8E


class Refusal(Exception):
    """The device refuses a command with ``code``; raised before any state changes."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"refused with 0x{code:02X}{': ' + reason if reason else ''}")


def split_command(payload: bytes) -> tuple[int, bytes]:
    """Split a frame payload into (command code, body); ``0xFFxx`` codes take two bytes."""
    if payload[0] == 0xFF:
        if len(payload) < 2:
            return 0xFF00, b""
        return 0xFF00 | payload[1], payload[2:]
    return payload[0], payload[1:]


def command_bytes(code: int) -> bytes:
    """The command code as it travels: one byte, or ``FF xx``."""
    return bytes([0xFF, code & 0xFF]) if code > 0xFF else bytes([code])


def answer(code: int, error: int, data: bytes = b"") -> bytes:
    """Build an answer payload; a non-zero error carries no data (§1.2)."""
    return command_bytes(code) + bytes([error]) + (data if error == 0 else b"")


def le(value: int, width: int) -> bytes:
    """Unsigned little-endian integer of ``width`` bytes (§1.5)."""
    return value.to_bytes(width, "little")


def dmy(day: date) -> bytes:
    """Classic 3-byte date DD MM YY (§1.5)."""
    return bytes([day.day, day.month, day.year % 100])


def hms(moment: datetime) -> bytes:
    """Classic 3-byte time HH MM SS (§1.5)."""
    return bytes([moment.hour, moment.minute, moment.second])


def fn_datetime(moment: datetime) -> bytes:
    """FN 5-byte date-time YY MM DD HH MM (§1.5)."""
    return bytes([moment.year % 100, moment.month, moment.day, moment.hour, moment.minute])


def fn_date(day: date) -> bytes:
    """FN 3-byte date YY MM DD (FF03)."""
    return bytes([day.year % 100, day.month, day.day])


def decode_text(raw: bytes, encoding: str = "cp1251") -> str:
    """A fixed text field: ends at the first NUL, trailing blanks dropped."""
    return raw.split(b"\x00", 1)[0].decode(encoding, errors="replace").rstrip()


class RequestReader:
    """Reads fixed-width little-endian fields from a request body.

    A body that ends early, or has bytes left over where the layout has none, is refused
    with ``error`` (0x33 for classic commands, FN 0x09 for ``FF xx``).
    """

    def __init__(self, body: bytes, *, error: int) -> None:
        self._body = body
        self._pos = 0
        self._error = error

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._body) - self._pos

    def raw(self, width: int) -> bytes:
        """The next ``width`` bytes."""
        if self.remaining < width:
            raise Refusal(self._error, f"body too short: wanted {width} more bytes")
        chunk = self._body[self._pos : self._pos + width]
        self._pos += width
        return chunk

    def uint(self, width: int) -> int:
        """The next unsigned little-endian integer of ``width`` bytes."""
        return int.from_bytes(self.raw(width), "little")

    def rest(self) -> bytes:
        """Everything not read yet."""
        chunk = self._body[self._pos :]
        self._pos = len(self._body)
        return chunk

    def text(self, *, min_bytes: int = 0, max_bytes: int = 255) -> str:
        """The rest of the body as a cp1251 text field of ``min_bytes``..``max_bytes``."""
        if not min_bytes <= self.remaining <= max_bytes:
            raise Refusal(self._error, f"text field of {self.remaining} bytes")
        return decode_text(self.rest())

    def end(self) -> None:
        """Refuse a body with bytes left over."""
        if self.remaining:
            raise Refusal(self._error, f"{self.remaining} unexpected trailing bytes")


def parse_tlv(data: bytes, *, error: int) -> list[tuple[int, bytes]]:
    """Split FF0C data into (tag, value) pairs: tag u16 LE, length u16 LE, value (§1.5)."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise Refusal(error, "truncated TLV header")
        tag = int.from_bytes(data[pos : pos + 2], "little")
        length = int.from_bytes(data[pos + 2 : pos + 4], "little")
        pos += 4
        if len(data) - pos < length:
            raise Refusal(error, f"TLV {tag} value truncated")
        items.append((tag, data[pos : pos + length]))
        pos += length
    if not items:
        raise Refusal(error, "empty TLV")
    return items
