"""0x1E / 0x1F: write and read one field of the register's settings tables, pure.

A Shtrih-M register keeps its settings in numbered tables of rows and fields
(docs/shtrih-wire-notes.md §2.1, docs/vat.md §1). A request names table, row and field; the
answer to 0x1F is the field's value alone, with no type or size beside it, so the caller
says what it expects: a :class:`NumberField` (``size`` little-endian bytes) or a
:class:`TextField` (cp1251, NUL-padded to ``size``). The codec in
:mod:`agent.drivers.shtrih.commands` encodes these requests and decodes their answers like
any other command (and re-exports the classes); the field descriptors decode the value.

The fields the driver reads (docs/vat.md): table 1 "Тип и режим кассы" row 1 field 14
"Начисление налогов" (:data:`TAX_MODE`) and table 6 "Налоговые ставки", one row per tax
rate, field 1 "Величина налога" (:data:`TAX_RATE`) and field 2 "Название налога"
(:data:`TAX_NAME`). Errors: 0x5D for an unknown table, 0x33 for a row or field out of
range or a value out of its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from agent.drivers.errors import MalformedPayload
from agent.drivers.shtrih.frame import MAX_PAYLOAD_LEN
from agent.drivers.shtrih.wire import (
    MAX_U8,
    MAX_U16,
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
    "MAX_TABLE_VALUE_BYTES",
    "REGISTER_COMPUTES_TAX_MODES",
    "TAX_MODE",
    "TAX_MODE_ROW",
    "TAX_NAME",
    "TAX_RATE",
    "NumberField",
    "ReadTableRequest",
    "ReadTableResponse",
    "TextField",
    "WriteTableRequest",
    "WriteTableResponse",
    "decode_read_table",
    "decode_write_table",
]

_ADDRESS_BYTES = 1 + 2 + 1  # table u8, row u16, field u8
MAX_TABLE_VALUE_BYTES: Final = MAX_PAYLOAD_LEN - 1 - 4 - _ADDRESS_BYTES
"""The longest value one 0x1E carries: 255 - code - password - address = 246 bytes."""


def _check_address(table: int, row: int, field: int) -> None:
    check_range(table, 1, MAX_U8, "table")
    check_range(row, 1, MAX_U16, "row")
    check_range(field, 1, MAX_U8, "field")


def _address(table: int, row: int, field: int) -> bytes:
    return bytes([table]) + row.to_bytes(2, "little") + bytes([field])


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadTableResponse:
    """0x1F answer: ``err | value`` (the field's size: 1..253 bytes, no type beside it)."""

    value: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteTableResponse:
    """0x1E answer: ``err`` only."""


# --- fields ----------------------------------------------------------------------------------


def _malformed(table: int, field: int, name: str, detail: str) -> MalformedPayload:
    return MalformedPayload(Command.READ_TABLE, f"table {table} field {field} ({name}): {detail}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberField:
    """A numeric field: ``size`` little-endian bytes; 0x1E accepts ``0..high``.

    Decoding keeps any number the register answers (it may know values the agent does not);
    only a value of another size than the field's is a malformed answer.
    """

    table: int
    field: int
    size: int
    high: int
    name: str

    def encode(self, value: int) -> bytes:
        """The value as 0x1E carries it; ValueError outside ``0..high``."""
        check_range(value, 0, self.high, self.name)
        return uint_bytes(value, self.size, self.name)

    def decode(self, answer: ReadTableResponse) -> int:
        """The number a 0x1F answer carries; MalformedPayload unless it is ``size`` bytes."""
        if len(answer.value) != self.size:
            detail = f"a {self.size}-byte number, got {len(answer.value)} byte(s)"
            raise _malformed(self.table, self.field, self.name, detail)
        return int.from_bytes(answer.value, "little")


@dataclass(frozen=True, slots=True, kw_only=True)
class TextField:
    """A text field: cp1251, NUL-padded to ``size`` bytes.

    An answer is whole when it fills the field or its text ends at a NUL inside it: a value
    cut inside the text (no NUL, shorter than the field) is malformed, never a shorter name.
    """

    table: int
    field: int
    size: int
    name: str

    def encode(self, text: str) -> bytes:
        """The text as 0x1E carries it, padded; ValueError when it is over ``size`` bytes."""
        return padded_text(text, self.size, self.name)

    def decode(self, answer: ReadTableResponse) -> str:
        """The text up to the first NUL, cp1251, without surrounding blanks."""
        raw = answer.value
        if len(raw) > self.size:
            detail = f"at most {self.size} bytes of text, got {len(raw)}"
            raise _malformed(self.table, self.field, self.name, detail)
        text, nul, _padding = raw.partition(b"\0")
        if not nul and len(raw) < self.size:
            detail = f"text cut short: {len(raw)} of {self.size} bytes and no NUL"
            raise _malformed(self.table, self.field, self.name, detail)
        return text.decode(TEXT_ENCODING, errors="replace").strip()


TAX_MODE: Final = NumberField(table=1, field=14, size=1, high=3, name="Начисление налогов")
"""Table 1 field 14: 0 the register computes VAT, 1 the host does (docs/vat.md §1)."""
TAX_MODE_ROW: Final = 1
"""Table 1 has one row."""
REGISTER_COMPUTES_TAX_MODES: Final = frozenset({0, 2, 3})
"""Tax modes in which the register computes VAT itself and ignores the host's tax sums:
0 for certain; 2 and 3 (2026 firmware) only per one fork's docstring (docs/vat.md §1)."""
TAX_RATE: Final = NumberField(table=6, field=1, size=2, high=9999, name="Величина налога")
"""Table 6 field 1: the row's rate in hundredths of a percent (2200 = 22 %)."""
TAX_NAME: Final = TextField(table=6, field=2, size=64, name="Название налога")
"""Table 6 field 2: the row's name ("НДС 22%", "НДС 22/122", "без НДС")."""


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadTableRequest(PasswordRequest):
    """0x1F Чтение таблицы: one field of one row; sysadmin password.

    ::

        1F | password u32 | table u8 | row u16 | field u8
    """

    command: ClassVar[Command] = Command.READ_TABLE
    table: int
    row: int
    field: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        _check_address(self.table, self.row, self.field)

    @classmethod
    def of(cls, password: int, field: NumberField | TextField, row: int) -> ReadTableRequest:
        """Read ``field`` of ``row``."""
        return cls(password=password, table=field.table, row=row, field=field.field)

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + _address(self.table, self.row, self.field)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteTableRequest(PasswordRequest):
    """0x1E Запись таблицы: one field of one row; sysadmin password.

    ``value`` is the field's bytes: :meth:`NumberField.encode` or :meth:`TextField.encode`.

    ::

        1E | password u32 | table u8 | row u16 | field u8 | value (1..246 bytes)
    """

    command: ClassVar[Command] = Command.WRITE_TABLE
    table: int
    row: int
    field: int
    value: bytes

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        _check_address(self.table, self.row, self.field)
        check_range(len(self.value), 1, MAX_TABLE_VALUE_BYTES, "value length")

    @classmethod
    def number(cls, password: int, field: NumberField, row: int, value: int) -> WriteTableRequest:
        """Write the number ``value`` into ``field`` of ``row``."""
        return cls(
            password=password,
            table=field.table,
            row=row,
            field=field.field,
            value=field.encode(value),
        )

    @classmethod
    def text(cls, password: int, field: TextField, row: int, text: str) -> WriteTableRequest:
        """Write ``text`` into ``field`` of ``row``, NUL-padded to the field."""
        return cls(
            password=password,
            table=field.table,
            row=row,
            field=field.field,
            value=field.encode(text),
        )

    def body(self) -> bytes:
        """The data after the command code."""
        return b"".join(
            [password_bytes(self.password), _address(self.table, self.row, self.field), self.value]
        )


# --- answers ---------------------------------------------------------------------------------


def decode_read_table(r: Reader) -> ReadTableResponse:
    """0x1F answer body after the error byte: the value, at least one byte."""
    if not r.remaining:
        raise r.malformed("value: the answer carries no value")
    return ReadTableResponse(value=r.rest())


def decode_write_table(r: Reader) -> WriteTableResponse:
    """0x1E answer body after the error byte: nothing."""
    r.done()
    return WriteTableResponse()
