"""Shtrih-M command codec: typed requests and answers <-> frame payloads, pure.

Spec: "Протокол работы ККТ с ФН v.1.17" (spec117) and the notes in
docs/shtrih-wire-notes.md §1.5 (encodings) and §2 (commands); FF3A/FF3B (reading a
document back as TLV) and tag 1084 (the mark) in docs/fn-documents.md. A payload is the
LEN bytes of a frame: the command code (1 byte, or ``FF xx``) and its data. Integers are
little-endian; money is in kopecks; the register's dates and times are its local wall time,
decoded here as naive datetimes (the driver attaches the register's time zone).

Every answer starts with the command code and an error byte. A non-zero error byte is the
short form ``CMD ERR`` (LEN 2, or 3 for ``FF xx``) and decodes to :class:`ErrorResponse`.
Error codes below 0x20 carry the FN meaning (:class:`FnErrorCode`): the codec serves FN-era
registers only, where that range belongs to the FN on every command (JavaPOS
``getDriverErrorText``; docs/shtrih-wire-notes.md §2.11). Other codes are :class:`DeviceErrorCode`;
a code neither enum knows stays a plain ``int``.

The command codes, field packing and the answer reader live in
:mod:`agent.drivers.shtrih.wire` (:class:`Command` is re-exported here); the table commands
0x1E/0x1F in :mod:`agent.drivers.shtrih.tables` (their requests and answers too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, IntFlag
from typing import ClassVar, Final, TypeVar

from agent.drivers.errors import MalformedPayload, UnexpectedResponse
from agent.drivers.shtrih.drawer import OpenDrawerRequest, OpenDrawerResponse, decode_open_drawer
from agent.drivers.shtrih.frame import MAX_PAYLOAD_LEN
from agent.drivers.shtrih.state_report import (
    StateReportRequest,
    StateReportResponse,
    decode_state_report,
)
from agent.drivers.shtrih.tables import (
    ReadTableRequest,
    ReadTableResponse,
    WriteTableRequest,
    WriteTableResponse,
    decode_read_table,
    decode_write_table,
)
from agent.drivers.shtrih.wire import (
    MAX_U8,
    MAX_U16,
    MAX_U32,
    TEXT_ENCODING,
    Command,
    PasswordRequest,
    Reader,
    check_range,
    padded_text,
    password_bytes,
    uint_bytes,
)

__all__ = [
    "FN_ERROR_LIMIT",
    "FN_PAYMENT_TYPES",
    "FN_TAX_SUMS",
    "MAX_FF45_TEXT_BYTES",
    "MAX_FF46_NAME_BYTES",
    "MAX_TLV_BYTES",
    "NOT_GIVEN",
    "AddOperationRequest",
    "AddOperationResponse",
    "BeginCloseShiftRequest",
    "BeginCloseShiftResponse",
    "BeginCorrectionRequest",
    "BeginCorrectionResponse",
    "BeginOpenShiftRequest",
    "BeginOpenShiftResponse",
    "BeginReadDocumentRequest",
    "BeginReadDocumentResponse",
    "CancelReceiptRequest",
    "CancelReceiptResponse",
    "CashInRequest",
    "CashInResponse",
    "CashOutRequest",
    "CashOutResponse",
    "CloseReceiptRequest",
    "CloseReceiptResponse",
    "Command",
    "ContinuePrintRequest",
    "ContinuePrintResponse",
    "DeviceErrorCode",
    "ErrorCode",
    "ErrorResponse",
    "FindDocumentRequest",
    "FindDocumentResponse",
    "FnDocument",
    "FnDocumentType",
    "FnErrorCode",
    "FnLifePhase",
    "FnWarningFlags",
    "Mode",
    "OfdExchangeFlags",
    "OpenDrawerRequest",
    "OpenDrawerResponse",
    "OpenShiftRequest",
    "OpenShiftResponse",
    "OperationType",
    "PrintXReportRequest",
    "PrintXReportResponse",
    "PrintZReportRequest",
    "PrintZReportResponse",
    "ReadDeviceTypeRequest",
    "ReadDeviceTypeResponse",
    "ReadDocumentBlockRequest",
    "ReadDocumentBlockResponse",
    "ReadExchangeStatusRequest",
    "ReadExchangeStatusResponse",
    "ReadFnExpiryRequest",
    "ReadFnExpiryResponse",
    "ReadFnStatusRequest",
    "ReadFnStatusResponse",
    "ReadMoneyRegisterRequest",
    "ReadMoneyRegisterResponse",
    "ReadOperatingRegisterRequest",
    "ReadOperatingRegisterResponse",
    "ReadShiftParamsRequest",
    "ReadShiftParamsResponse",
    "ReadShortStatusRequest",
    "ReadShortStatusResponse",
    "ReadStatusRequest",
    "ReadStatusResponse",
    "ReadTableRequest",
    "ReadTableResponse",
    "ReadUnconfirmedCountRequest",
    "ReadUnconfirmedCountResponse",
    "Request",
    "Response",
    "StateReportRequest",
    "StateReportResponse",
    "StatusFlags",
    "Submode",
    "Tag",
    "TlvItem",
    "WriteTableRequest",
    "WriteTableResponse",
    "WriteTlvRequest",
    "WriteTlvResponse",
    "decode_response",
    "decode_tlv",
    "encode",
    "encode_tlv",
    "interpret_error",
    "tlv_stlv",
    "tlv_string",
]

FN_ERROR_LIMIT: Final = 0x20
"""Error codes below this carry the FN meaning on FN-era registers (§2.11)."""
MAX_TLV_BYTES: Final = min(250, MAX_PAYLOAD_LEN - 2 - 4)
"""TLV bytes one FF0C carries: at most 250 (§2.9), and a frame's one-byte LEN leaves 249
after ``FF 0C`` and the password, so 249."""
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

_MONEY_BYTES = 5
_MAX_MONEY = 0xFF_FF_FF_FF_FF
_MAX_QTY = 0xFF_FF_FF_FF_FF_FF
_TLV_ENCODING = "cp866"
_YEAR_BASE = 2000
_FN_SERIAL_BYTES = 16


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


class FnDocumentType(IntEnum):
    """FF0A byte 1: the type of an archived fiscal document (§2.9)."""

    REGISTRATION = 1
    OPEN_SHIFT = 2
    RECEIPT = 3
    BSO = 4
    CLOSE_SHIFT = 5
    CALCULATION_STATE = 21  # отчёт о текущем состоянии расчётов (FF38)
    CORRECTION = 31  # FFD form code of a correction receipt; what FF0A gives is unconfirmed


class OperationType(IntEnum):
    """FF46 operation type and FF0A receipt operation, tag 1054 (§2.8)."""

    INCOME = 1  # приход
    INCOME_RETURN = 2  # возврат прихода
    EXPENSE = 3  # расход
    EXPENSE_RETURN = 4  # возврат расхода


class Tag(IntEnum):
    """FFD tags the driver writes with FF0C (docs/fiscal-law-notes.md §1.2, fn-documents.md)."""

    CUSTOMER_CONTACT = 1008
    CASHIER_NAME = 1021
    USER_REQUISITE = 1084  # дополнительный реквизит пользователя (STLV of 1085 and 1086)
    USER_REQUISITE_NAME = 1085
    USER_REQUISITE_VALUE = 1086
    CORRECTION_TYPE = 1173  # тип коррекции: 0 самостоятельно, 1 по предписанию
    CORRECTION_BASIS = 1174  # основание для коррекции (STLV of 1177, 1178, 1179)
    CORRECTION_BASIS_DATE = 1178  # дата совершения корректируемого расчета (UnixTime)
    CASHIER_INN = 1203


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


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShortStatusRequest(PasswordRequest):
    """0x10 Короткий запрос состояния (§2.2).

    ::

        10 | password u32
    """

    command: ClassVar[Command] = Command.READ_SHORT_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStatusRequest(PasswordRequest):
    """0x11 Запрос состояния (§2.3).

    ::

        11 | password u32
    """

    command: ClassVar[Command] = Command.READ_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadMoneyRegisterRequest(PasswordRequest):
    """0x1A Запрос денежного регистра (§2.10); K-registers from 256 take the 2-byte form.

    ::

        1A | password u32 | register u8        (0..255)
        1A | password u32 | register u16       (256..65535)
    """

    command: ClassVar[Command] = Command.READ_MONEY_REGISTER
    register: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.register, 0, MAX_U16, "register")

    def body(self) -> bytes:
        """The data after the command code."""
        size = 1 if self.register <= MAX_U8 else 2
        return password_bytes(self.password) + self.register.to_bytes(size, "little")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOperatingRegisterRequest(PasswordRequest):
    """0x1B Запрос операционного регистра (§2.10).

    ::

        1B | password u32 | register u8
    """

    command: ClassVar[Command] = Command.READ_OPERATING_REGISTER
    register: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.register, 0, MAX_U8, "register")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + bytes([self.register])


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintXReportRequest(PasswordRequest):
    """0x40 Суточный отчёт без гашения (§2.6); administrator or sysadmin password.

    ::

        40 | password u32
    """

    command: ClassVar[Command] = Command.PRINT_X_REPORT


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintZReportRequest(PasswordRequest):
    """0x41 Суточный отчёт с гашением: closes the shift (§2.6).

    ::

        41 | password u32
    """

    command: ClassVar[Command] = Command.PRINT_Z_REPORT


@dataclass(frozen=True, slots=True, kw_only=True)
class CashInRequest(PasswordRequest):
    """0x50 Внесение (§2.1).

    ::

        50 | password u32 | amount u40 (kopecks)
    """

    command: ClassVar[Command] = Command.CASH_IN
    amount: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.amount, 0, _MAX_MONEY, "amount")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + uint_bytes(self.amount, _MONEY_BYTES, "amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class CashOutRequest(CashInRequest):
    """0x51 Выплата (§2.1).

    ::

        51 | password u32 | amount u40 (kopecks)
    """

    command: ClassVar[Command] = Command.CASH_OUT


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReceiptRequest(PasswordRequest):
    """0x88 Аннулирование чека (§2.7).

    ::

        88 | password u32
    """

    command: ClassVar[Command] = Command.CANCEL_RECEIPT


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinuePrintRequest(PasswordRequest):
    """0xB0 Продолжение печати: resume after paper was loaded (§2.1, submode 3).

    ::

        B0 | password u32
    """

    command: ClassVar[Command] = Command.CONTINUE_PRINT


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenShiftRequest(PasswordRequest):
    """0xE0 Открыть смену (§2.5).

    ::

        E0 | password u32
    """

    command: ClassVar[Command] = Command.OPEN_SHIFT


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
class ReadFnStatusRequest(PasswordRequest):
    """FF01 Запрос статуса ФН (§2.9).

    ::

        FF 01 | password u32
    """

    command: ClassVar[Command] = Command.READ_FN_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnExpiryRequest(PasswordRequest):
    """FF03 Запрос срока действия ФН (§2.1).

    ::

        FF 03 | password u32
    """

    command: ClassVar[Command] = Command.READ_FN_EXPIRY


@dataclass(frozen=True, slots=True, kw_only=True)
class FindDocumentRequest(PasswordRequest):
    """FF0A Найти фискальный документ по номеру (§2.9).

    ::

        FF 0A | password u32 | FD number u32
    """

    command: ClassVar[Command] = Command.FIND_DOCUMENT
    fd: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.fd, 0, MAX_U32, "fd")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + self.fd.to_bytes(4, "little")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlvItem:
    """One FFD tag: ``tag u16 | length u16 | value`` (docs/fiscal-law-notes.md §1.1)."""

    tag: int
    value: bytes

    def __post_init__(self) -> None:
        check_range(self.tag, 0, MAX_U16, "tag")
        check_range(len(self.value), 0, MAX_U16, "TLV value length")

    def encode(self) -> bytes:
        """The tag on the wire."""
        return self.tag.to_bytes(2, "little") + len(self.value).to_bytes(2, "little") + self.value


def tlv_string(tag: int, text: str) -> TlvItem:
    """A string tag: CP866, characters CP866 lacks become ``?`` (docs/fiscal-law-notes.md §1.1)."""
    return TlvItem(tag=tag, value=text.encode(_TLV_ENCODING, errors="replace"))


def tlv_stlv(tag: int, items: Iterable[TlvItem]) -> TlvItem:
    """A structured tag (STLV): its value is the TLV of its children (docs/fn-documents.md §2)."""
    return TlvItem(tag=tag, value=encode_tlv(items))


def encode_tlv(items: Iterable[TlvItem]) -> bytes:
    """Concatenate tags as FF0C carries them."""
    return b"".join(item.encode() for item in items)


def decode_tlv(data: bytes) -> tuple[TlvItem, ...]:
    """Split a TLV sequence; raises ``ValueError`` when a header or value is cut short."""
    items: list[TlvItem] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            msg = f"TLV header cut short at offset {pos}"
            raise ValueError(msg)
        tag = int.from_bytes(data[pos : pos + 2], "little")
        length = int.from_bytes(data[pos + 2 : pos + 4], "little")
        end = pos + 4 + length
        if end > len(data):
            msg = f"TLV {tag} needs {length} byte(s), {len(data) - pos - 4} left"
            raise ValueError(msg)
        items.append(TlvItem(tag=tag, value=data[pos + 4 : end]))
        pos = end
    return tuple(items)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteTlvRequest(PasswordRequest):
    """FF0C Передать произвольную TLV структуру: tags for the open document (§2.9).

    ::

        FF 0C | password u32 | TLV... (at most 250 bytes)
    """

    command: ClassVar[Command] = Command.WRITE_TLV
    items: tuple[TlvItem, ...]

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        size = len(encode_tlv(self.items))
        if not 0 < size <= MAX_TLV_BYTES:
            msg = f"FF0C carries 1..{MAX_TLV_BYTES} bytes of TLV, got {size}"
            raise ValueError(msg)

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + encode_tlv(self.items)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadExchangeStatusRequest(PasswordRequest):
    """FF39 Получить статус информационного обмена (§2.9).

    ::

        FF 39 | password u32
    """

    command: ClassVar[Command] = Command.READ_EXCHANGE_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginReadDocumentRequest(FindDocumentRequest):
    """FF3A Запросить фискальный документ в TLV формате (docs/fn-documents.md §1).

    Sysadmin password. Starts reading the document back; FF3B then returns its TLV.

    ::

        FF 3A | password u32 | FD number u32
    """

    command: ClassVar[Command] = Command.BEGIN_READ_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDocumentBlockRequest(PasswordRequest):
    """FF3B Чтение TLV фискального документа: the next block of the document (§1).

    ::

        FF 3B | password u32
    """

    command: ClassVar[Command] = Command.READ_DOCUMENT_BLOCK


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadUnconfirmedCountRequest(PasswordRequest):
    """FF3F Запрос количества ФД, на которые нет квитанции (§2.9).

    ::

        FF 3F | password u32
    """

    command: ClassVar[Command] = Command.READ_UNCONFIRMED_COUNT


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShiftParamsRequest(PasswordRequest):
    """FF40 Запрос параметров текущей смены (§2.1).

    ::

        FF 40 | password u32
    """

    command: ClassVar[Command] = Command.READ_SHIFT_PARAMS


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginOpenShiftRequest(PasswordRequest):
    """FF41 Начать открытие смены: FF0C tags may follow, then 0xE0 (§2.5).

    ::

        FF 41 | password u32
    """

    command: ClassVar[Command] = Command.BEGIN_OPEN_SHIFT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCloseShiftRequest(PasswordRequest):
    """FF42 Начать закрытие смены: FF0C tags may follow, then 0x41 (§2.5).

    ::

        FF 42 | password u32
    """

    command: ClassVar[Command] = Command.BEGIN_CLOSE_SHIFT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCorrectionRequest(PasswordRequest):
    """FF35 Начать формирование чека коррекции (docs/corrections.md).

    ::

        FF 35 | password u32 (system administrator)

    On an FFD 1.2 register the correction receipt then takes FF46 lines, FF0C tags (1173,
    1174 with 1178, the mark) and closes with FF45, as a receipt does.
    """

    command: ClassVar[Command] = Command.BEGIN_CORRECTION_RECEIPT


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
            check_range(value, 0, _MAX_MONEY, f"sum #{index}")
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
                *(value.to_bytes(_MONEY_BYTES, "little") for value in self.payments),
                bytes([self.rounding]),
                *(value.to_bytes(_MONEY_BYTES, "little") for value in self.taxes),
                bytes([self.tax_system]),
                padded_text(self.text, MAX_FF45_TEXT_BYTES, "text"),
            ]
        )


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
        check_range(self.price, 0, _MAX_MONEY, "price")
        for field, value in (("amount", self.amount), ("tax_amount", self.tax_amount)):
            if value is not None:
                check_range(value, 0, _MAX_MONEY - 1, field)
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
                self.price.to_bytes(_MONEY_BYTES, "little"),
                amount.to_bytes(_MONEY_BYTES, "little"),
                tax_amount.to_bytes(_MONEY_BYTES, "little"),
                bytes([self.tax_rate, self.department, self.payment_method, self.payment_subject]),
                padded_text(self.name, MAX_FF46_NAME_BYTES, "name"),
            ]
        )


Request = (
    ReadShortStatusRequest
    | ReadStatusRequest
    | ReadMoneyRegisterRequest
    | ReadOperatingRegisterRequest
    | WriteTableRequest
    | ReadTableRequest
    | PrintXReportRequest
    | PrintZReportRequest
    | CashInRequest
    | CashOutRequest
    | CancelReceiptRequest
    | ContinuePrintRequest
    | OpenShiftRequest
    | ReadDeviceTypeRequest
    | ReadFnStatusRequest
    | ReadFnExpiryRequest
    | FindDocumentRequest
    | WriteTlvRequest
    | ReadExchangeStatusRequest
    | BeginReadDocumentRequest
    | ReadDocumentBlockRequest
    | ReadUnconfirmedCountRequest
    | ReadShiftParamsRequest
    | BeginOpenShiftRequest
    | BeginCloseShiftRequest
    | BeginCorrectionRequest
    | CloseReceiptRequest
    | AddOperationRequest
    | OpenDrawerRequest
    | StateReportRequest
)


def encode(request: Request) -> bytes:
    """The frame payload of a request: command code, then its data."""
    return request.command.wire + request.body()


# --- responses -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorResponse:
    """Any command answered with a non-zero error byte: ``CMD ERR`` (§1.2, §2.11)."""

    command: Command | int
    code: ErrorCode


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadMoneyRegisterResponse:
    """0x1A answer: ``err | operator | value u48`` in kopecks (§2.10)."""

    operator: int
    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOperatingRegisterResponse:
    """0x1B answer: ``err | operator | value u16`` (§2.10)."""

    operator: int
    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _OperatorResponse:
    """An answer that carries only the operator number: ``err | operator``."""

    operator: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintXReportResponse(_OperatorResponse):
    """0x40 answer: ``err | operator`` (§2.6)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintZReportResponse(_OperatorResponse):
    """0x41 answer: ``err | operator`` (§2.6)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReceiptResponse(_OperatorResponse):
    """0x88 answer: ``err | operator`` (§1.2, real capture)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinuePrintResponse(_OperatorResponse):
    """0xB0 answer: ``err | operator`` (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CashInResponse:
    """0x50 answer: ``err | operator | document number u16`` (§2.1)."""

    operator: int
    document_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CashOutResponse(CashInResponse):
    """0x51 answer: ``err | operator | document number u16`` (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenShiftResponse:
    """0xE0 answer: ``err [| operator]``; spec117 and JavaPOS disagree on the byte (§2.5)."""

    operator: int | None


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFnExpiryResponse:
    """FF03 answer: ``err | YY MM DD [| re-registrations left | done]`` (§2.1)."""

    valid_until: date
    reregistrations_left: int | None = None
    reregistrations_done: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindDocumentResponse:
    """FF0A answer (§2.9).

    Receipts and BSOs add ``operation u8 | amount u40``; shift documents add ``shift u16``;
    the tail of other types is kept raw in ``extra``.

    ::

        err | type | OFD ticket (0/1) | YY MM DD HH MM | FD u32 | fiscal sign u32 | tail...
    """

    document_type: FnDocumentType | int
    has_ofd_ticket: bool
    issued_at: datetime
    fd: int
    fp: int
    operation: OperationType | int | None = None
    amount: int | None = None
    shift: int | None = None
    extra: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteTlvResponse:
    """FF0C answer: ``err`` only (§2.9)."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginReadDocumentResponse:
    """FF3A answer: ``err | document type u16 | length u16`` (docs/fn-documents.md §1).

    ``document_type`` is the FFD form code of the document (3 receipt, 31 correction
    receipt, ...); ``length`` the byte length of the TLV that FF3B returns in total.
    """

    document_type: FnDocumentType | int
    length: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDocumentBlockResponse:
    """FF3B answer: ``err | TLV...`` (docs/fn-documents.md §1).

    ``data`` is the rest of the frame: one whole top-level TLV on the registers seen so far,
    but the host joins the blocks and splits the result, never trusting a block boundary.
    """

    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadUnconfirmedCountResponse:
    """FF3F answer: ``err | count u16`` (spec) or ``u32`` (JavaPOS reads 4) (§2.9)."""

    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadShiftParamsResponse:
    """FF40 answer: ``err | shift open (0/1) | shift number u16 | receipt number u16`` (§2.1)."""

    is_shift_open: bool
    shift: int
    receipt_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginOpenShiftResponse:
    """FF41 answer: ``err`` only (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCloseShiftResponse:
    """FF42 answer: ``err`` only (§2.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginCorrectionResponse:
    """FF35 answer: ``err`` only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseReceiptResponse:
    """FF45 answer (§2.8): ``err | change u40 | FD u32 | fiscal sign u32 [| YY MM DD HH MM]``."""

    change: int
    fd: int
    fp: int
    issued_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOperationResponse:
    """FF46 answer: ``err`` only (§2.8)."""


Response = (
    ErrorResponse
    | ReadShortStatusResponse
    | ReadStatusResponse
    | ReadMoneyRegisterResponse
    | ReadOperatingRegisterResponse
    | WriteTableResponse
    | ReadTableResponse
    | PrintXReportResponse
    | PrintZReportResponse
    | CashInResponse
    | CashOutResponse
    | CancelReceiptResponse
    | ContinuePrintResponse
    | OpenShiftResponse
    | ReadDeviceTypeResponse
    | ReadFnStatusResponse
    | ReadFnExpiryResponse
    | FindDocumentResponse
    | WriteTlvResponse
    | ReadExchangeStatusResponse
    | BeginReadDocumentResponse
    | ReadDocumentBlockResponse
    | ReadUnconfirmedCountResponse
    | ReadShiftParamsResponse
    | BeginOpenShiftResponse
    | BeginCloseShiftResponse
    | BeginCorrectionResponse
    | CloseReceiptResponse
    | AddOperationResponse
    | OpenDrawerResponse
    | StateReportResponse
)

_E = TypeVar("_E", bound=IntEnum)


def _enum_or_int(enum: type[_E], value: int) -> _E | int:
    try:
        return enum(value)
    except ValueError:
        return value


def _decode_short_status(r: Reader) -> ReadShortStatusResponse:
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
        mode=_enum_or_int(Mode, mode_byte & 0x0F),
        mode_status=mode_byte >> 4,
        submode=_enum_or_int(Submode, submode),
        operations=ops_high << 8 | ops_low,
        battery_voltage_raw=battery,
        supply_voltage_raw=supply,
        fp_error=fp_error,
        eklz_error=eklz_error,
        last_print_result=last_print,
    )


def _decode_status(r: Reader) -> ReadStatusResponse:
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
            _YEAR_BASE + raw_date[2],
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
        mode=_enum_or_int(Mode, mode_byte & 0x0F),
        mode_status=mode_byte >> 4,
        submode=_enum_or_int(Submode, submode),
        port=port,
        clock=clock,
        fp_flags=fp_flags,
        serial=serial,
        last_closed_shift=last_closed_shift,
        reregistrations_done=reregistrations_done,
        reregistrations_left=reregistrations_left,
        inn=None if inn == (1 << 48) - 1 else inn,
    )


def _decode_money_register(r: Reader) -> ReadMoneyRegisterResponse:
    response = ReadMoneyRegisterResponse(operator=r.uint(1, "operator"), value=r.uint(6, "value"))
    r.done()
    return response


def _decode_operating_register(r: Reader) -> ReadOperatingRegisterResponse:
    operator = r.uint(1, "operator")
    response = ReadOperatingRegisterResponse(operator=operator, value=r.uint(2, "value"))
    r.done()
    return response


_O = TypeVar("_O", bound=_OperatorResponse)


def _operator_only(cls: type[_O]) -> Callable[[Reader], _O]:
    def decode(r: Reader) -> _O:
        response = cls(operator=r.uint(1, "operator"))
        r.done()
        return response

    return decode


def _cash_movement(cls: type[CashInResponse]) -> Callable[[Reader], CashInResponse]:
    def decode(r: Reader) -> CashInResponse:
        operator = r.uint(1, "operator")
        response = cls(operator=operator, document_number=r.uint(2, "document number"))
        r.done()
        return response

    return decode


def _decode_open_shift(r: Reader) -> OpenShiftResponse:
    operator = r.uint(1, "operator") if r.remaining else None
    r.done()
    return OpenShiftResponse(operator=operator)


def _decode_device_type(r: Reader) -> ReadDeviceTypeResponse:
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


def _decode_fn_status(r: Reader) -> ReadFnStatusResponse:
    life_phase = FnLifePhase(r.uint(1, "life phase"))
    current_document = _enum_or_int(FnDocument, r.uint(1, "current document"))
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


def _decode_fn_expiry(r: Reader) -> ReadFnExpiryResponse:
    raw = r.take(3, "expiry date")
    try:
        valid_until = date(_YEAR_BASE + raw[0], raw[1], raw[2])
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


_MONEY_DOCUMENTS = frozenset(
    {FnDocumentType.RECEIPT, FnDocumentType.BSO, FnDocumentType.CORRECTION}
)
_SHIFT_DOCUMENTS = frozenset({FnDocumentType.OPEN_SHIFT, FnDocumentType.CLOSE_SHIFT})


def _decode_find_document(r: Reader) -> FindDocumentResponse:
    document_type = _enum_or_int(FnDocumentType, r.uint(1, "document type"))
    has_ofd_ticket = r.flag("OFD ticket")
    issued_at = r.fn_datetime("date-time")
    fd = r.uint(4, "FD")
    fp = r.uint(4, "fiscal sign")
    if document_type in _MONEY_DOCUMENTS:
        operation = _enum_or_int(OperationType, r.uint(1, "operation"))
        amount = r.uint(_MONEY_BYTES, "amount")
        r.done()
        return FindDocumentResponse(
            document_type=document_type,
            has_ofd_ticket=has_ofd_ticket,
            issued_at=issued_at,
            fd=fd,
            fp=fp,
            operation=operation,
            amount=amount,
        )
    if document_type in _SHIFT_DOCUMENTS:
        shift = r.uint(2, "shift")
        r.done()
        return FindDocumentResponse(
            document_type=document_type,
            has_ofd_ticket=has_ofd_ticket,
            issued_at=issued_at,
            fd=fd,
            fp=fp,
            shift=shift,
        )
    return FindDocumentResponse(
        document_type=document_type,
        has_ofd_ticket=has_ofd_ticket,
        issued_at=issued_at,
        fd=fd,
        fp=fp,
        extra=r.rest(),
    )


def _decode_exchange_status(r: Reader) -> ReadExchangeStatusResponse:
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


def _decode_begin_read_document(r: Reader) -> BeginReadDocumentResponse:
    document_type = _enum_or_int(FnDocumentType, r.uint(2, "document type"))
    length = r.uint(2, "document length")
    r.done()
    return BeginReadDocumentResponse(document_type=document_type, length=length)


def _decode_document_block(r: Reader) -> ReadDocumentBlockResponse:
    return ReadDocumentBlockResponse(data=r.rest())


def _decode_unconfirmed_count(r: Reader) -> ReadUnconfirmedCountResponse:
    if r.remaining not in {2, 4}:
        raise r.malformed(f"count must be 2 or 4 bytes, got {r.remaining}")
    return ReadUnconfirmedCountResponse(count=r.uint(r.remaining, "count"))


def _decode_shift_params(r: Reader) -> ReadShiftParamsResponse:
    is_open = r.flag("shift state")
    shift = r.uint(2, "shift number")
    receipt_number = r.uint(2, "receipt number")
    r.done()
    return ReadShiftParamsResponse(
        is_shift_open=is_open, shift=shift, receipt_number=receipt_number
    )


def _decode_close_receipt(r: Reader) -> CloseReceiptResponse:
    change = r.uint(_MONEY_BYTES, "change")
    fd = r.uint(4, "FD")
    fp = r.uint(4, "fiscal sign")
    issued_at = r.fn_datetime("date-time") if r.remaining else None
    r.done()
    return CloseReceiptResponse(change=change, fd=fd, fp=fp, issued_at=issued_at)


_Empty = (
    WriteTlvResponse
    | BeginOpenShiftResponse
    | BeginCloseShiftResponse
    | BeginCorrectionResponse
    | AddOperationResponse
)
_EmptyT = TypeVar("_EmptyT", bound=_Empty)


def _empty(cls: type[_EmptyT]) -> Callable[[Reader], _EmptyT]:
    def decode(r: Reader) -> _EmptyT:
        r.done()
        return cls()

    return decode


_DECODERS: dict[Command, Callable[[Reader], Response]] = {
    Command.READ_SHORT_STATUS: _decode_short_status,
    Command.READ_STATUS: _decode_status,
    Command.READ_MONEY_REGISTER: _decode_money_register,
    Command.READ_OPERATING_REGISTER: _decode_operating_register,
    Command.WRITE_TABLE: decode_write_table,
    Command.READ_TABLE: decode_read_table,
    Command.PRINT_X_REPORT: _operator_only(PrintXReportResponse),
    Command.PRINT_Z_REPORT: _operator_only(PrintZReportResponse),
    Command.CASH_IN: _cash_movement(CashInResponse),
    Command.CASH_OUT: _cash_movement(CashOutResponse),
    Command.CANCEL_RECEIPT: _operator_only(CancelReceiptResponse),
    Command.CONTINUE_PRINT: _operator_only(ContinuePrintResponse),
    Command.OPEN_SHIFT: _decode_open_shift,
    Command.READ_DEVICE_TYPE: _decode_device_type,
    Command.READ_FN_STATUS: _decode_fn_status,
    Command.READ_FN_EXPIRY: _decode_fn_expiry,
    Command.FIND_DOCUMENT: _decode_find_document,
    Command.WRITE_TLV: _empty(WriteTlvResponse),
    Command.READ_EXCHANGE_STATUS: _decode_exchange_status,
    Command.BEGIN_READ_DOCUMENT: _decode_begin_read_document,
    Command.READ_DOCUMENT_BLOCK: _decode_document_block,
    Command.READ_UNCONFIRMED_COUNT: _decode_unconfirmed_count,
    Command.READ_SHIFT_PARAMS: _decode_shift_params,
    Command.BEGIN_OPEN_SHIFT: _empty(BeginOpenShiftResponse),
    Command.BEGIN_CLOSE_SHIFT: _empty(BeginCloseShiftResponse),
    Command.BEGIN_CORRECTION_RECEIPT: _empty(BeginCorrectionResponse),
    Command.CLOSE_RECEIPT: _decode_close_receipt,
    Command.ADD_OPERATION: _empty(AddOperationResponse),
    Command.OPEN_DRAWER: decode_open_drawer,
    Command.STATE_REPORT: decode_state_report,
}


def decode_response(command: Command, payload: bytes) -> Response:
    """Decode the answer to ``command`` from a frame payload (code, error byte, data).

    Raises:
        UnexpectedResponse: the payload answers another command.
        MalformedPayload: the payload is too short, too long or its values make no sense.
    """
    wire = command.wire
    if payload[: len(wire)] != wire:
        got = payload[: len(wire)].hex(" ") or "nothing"
        raise UnexpectedResponse(command, f"answer carries code {got}")
    if len(payload) <= len(wire):
        raise MalformedPayload(command, "no error byte")
    code = payload[len(wire)]
    if code:
        return ErrorResponse(command=command, code=interpret_error(code))
    return _DECODERS[command](Reader(command, payload[len(wire) + 1 :]))
