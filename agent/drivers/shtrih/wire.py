"""The Shtrih-M command codec's primitives: command codes, field packing, the answer reader.

Pure, like the codec built on them (:mod:`agent.drivers.shtrih.commands`, which re-exports
:class:`Command`, and :mod:`agent.drivers.shtrih.tables`). Integers are little-endian;
text is cp1251, NUL-padded to its field; a short or inconsistent answer body raises
:class:`agent.drivers.errors.MalformedPayload` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import ClassVar, Final

from agent.drivers.errors import MalformedPayload

__all__ = [
    "MAX_U8",
    "MAX_U16",
    "MAX_U32",
    "TEXT_ENCODING",
    "Command",
    "PasswordRequest",
    "Reader",
    "check_range",
    "command_bytes",
    "padded_text",
    "password_bytes",
    "uint_bytes",
]

MAX_U8: Final = 0xFF
MAX_U16: Final = 0xFFFF
MAX_U32: Final = 0xFFFF_FFFF
TEXT_ENCODING: Final = "cp1251"
"""Text of the register's own commands and tables (FFD tags travel in CP866)."""

_PASSWORD_BYTES = 4
_FN_PREFIX = 0xFF
_YEAR_BASE = 2000


class Command(IntEnum):
    """Command codes this codec speaks; two-byte FN commands are ``0xFFxx``."""

    READ_SHORT_STATUS = 0x10  # Короткий запрос состояния
    READ_STATUS = 0x11  # Запрос состояния
    READ_MONEY_REGISTER = 0x1A  # Запрос денежного регистра
    READ_OPERATING_REGISTER = 0x1B  # Запрос операционного регистра
    WRITE_TABLE = 0x1E  # Запись таблицы
    READ_TABLE = 0x1F  # Чтение таблицы
    OPEN_DRAWER = 0x28  # Открыть денежный ящик
    PRINT_X_REPORT = 0x40  # Суточный отчёт без гашения
    PRINT_Z_REPORT = 0x41  # Суточный отчёт с гашением
    CASH_IN = 0x50  # Внесение
    CASH_OUT = 0x51  # Выплата
    CANCEL_RECEIPT = 0x88  # Аннулирование чека
    CONTINUE_PRINT = 0xB0  # Продолжение печати
    OPEN_SHIFT = 0xE0  # Открыть смену
    READ_DEVICE_TYPE = 0xFC  # Получить тип устройства
    READ_FN_STATUS = 0xFF01  # Запрос статуса ФН
    READ_FN_EXPIRY = 0xFF03  # Запрос срока действия ФН
    FIND_DOCUMENT = 0xFF0A  # Найти фискальный документ по номеру
    WRITE_TLV = 0xFF0C  # Передать произвольную TLV структуру
    BEGIN_CORRECTION_RECEIPT = 0xFF35  # Начать формирование чека коррекции
    STATE_REPORT = 0xFF38  # Сформировать отчёт о состоянии расчётов
    READ_EXCHANGE_STATUS = 0xFF39  # Получить статус информационного обмена
    BEGIN_READ_DOCUMENT = 0xFF3A  # Запросить фискальный документ в TLV формате
    READ_DOCUMENT_BLOCK = 0xFF3B  # Чтение TLV фискального документа
    READ_UNCONFIRMED_COUNT = 0xFF3F  # Запрос количества ФД, на которые нет квитанции
    READ_SHIFT_PARAMS = 0xFF40  # Запрос параметров текущей смены
    BEGIN_OPEN_SHIFT = 0xFF41  # Начать открытие смены
    BEGIN_CLOSE_SHIFT = 0xFF42  # Начать закрытие смены
    CLOSE_RECEIPT = 0xFF45  # Закрытие чека расширенное вариант №2
    ADD_OPERATION = 0xFF46  # Операция V2

    @property
    def wire(self) -> bytes:
        """The code as it travels: one byte, or ``FF xx``."""
        return command_bytes(self)


def command_bytes(code: int) -> bytes:
    """A command code as it travels: one byte, or ``FF xx`` for ``0xFFxx``."""
    if code > MAX_U8:
        return bytes([_FN_PREFIX, code & MAX_U8])
    return bytes([code])


def uint_bytes(value: int, size: int, field: str) -> bytes:
    """``value`` as ``size`` little-endian bytes; ValueError when it does not fit."""
    if not 0 <= value < 1 << (8 * size):
        msg = f"{field} = {value} does not fit {size} unsigned byte(s)"
        raise ValueError(msg)
    return value.to_bytes(size, "little")


def password_bytes(password: int) -> bytes:
    """A password as its 4 little-endian bytes."""
    return password.to_bytes(_PASSWORD_BYTES, "little")


def check_range(value: int, low: int, high: int, field: str) -> None:
    """ValueError naming ``field`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        msg = f"{field} must be {low}..{high}, got {value}"
        raise ValueError(msg)


def padded_text(text: str, size: int, field: str) -> bytes:
    """cp1251 text NUL-padded to ``size`` (a character cp1251 lacks becomes ``?``)."""
    raw = text.encode(TEXT_ENCODING, errors="replace")
    if len(raw) > size:
        msg = f"{field} is {len(raw)} bytes in {TEXT_ENCODING}; at most {size}"
        raise ValueError(msg)
    return raw.ljust(size, b"\0")


class Reader:
    """Reads little-endian fields from an answer body; short data is a malformed answer."""

    def __init__(self, command: int, data: bytes) -> None:
        self.command = command
        self.data = data
        self.pos = 0

    def malformed(self, detail: str) -> MalformedPayload:
        """The error for an answer to this command that makes no sense."""
        return MalformedPayload(self.command, detail)

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self.data) - self.pos

    def take(self, size: int, field: str) -> bytes:
        """The next ``size`` bytes; too few left is a malformed answer."""
        if self.remaining < size:
            msg = f"{field}: need {size} byte(s) at offset {self.pos}, have {self.remaining}"
            raise self.malformed(msg)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """The next ``size`` bytes as a little-endian unsigned number."""
        return int.from_bytes(self.take(size, field), "little")

    def flag(self, field: str) -> bool:
        """One byte that must be 0 or 1."""
        value = self.uint(1, field)
        if value > 1:
            raise self.malformed(f"{field} must be 0 or 1, got {value}")
        return value == 1

    def rest(self) -> bytes:
        """Every byte not read yet."""
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk

    def done(self) -> None:
        """Trailing bytes beyond the layout are an answer we do not understand."""
        if self.remaining:
            raise self.malformed(f"{self.remaining} unexpected trailing byte(s)")

    def fn_datetime(self, field: str) -> datetime:
        """5 bytes YY MM DD HH MM, as FN commands carry them (§1.5)."""
        raw = self.take(5, field)
        try:
            return datetime(_YEAR_BASE + raw[0], raw[1], raw[2], raw[3], raw[4])  # noqa: DTZ001 register wall time; the driver attaches its zone
        except ValueError as exc:
            raise self.malformed(f"{field}: not a date-time: {raw.hex(' ')}") from exc

    def fn_datetime_or_none(self, field: str) -> datetime | None:
        """Like :meth:`fn_datetime`, but all zeros or an invalid value read as "none"."""
        raw = self.take(5, field)
        try:
            return datetime(_YEAR_BASE + raw[0], raw[1], raw[2], raw[3], raw[4])  # noqa: DTZ001 register wall time
        except ValueError:
            return None

    def dmy_date_or_none(self, field: str) -> date | None:
        """3 bytes DD MM YY (classic commands); an invalid value reads as "none"."""
        raw = self.take(3, field)
        try:
            return date(_YEAR_BASE + raw[2], raw[1], raw[0])
        except ValueError:
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordRequest:
    """A request whose data starts with (or is only) the 4-byte password."""

    command: ClassVar[Command]
    password: int

    def __post_init__(self) -> None:
        check_range(self.password, 0, MAX_U32, "password")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password)
