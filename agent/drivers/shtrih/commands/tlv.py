"""FFD tags and FF0C, pure: TLV items, CP866 strings, STLV nesting and the FF0C request.

FF0C writes tags into the open document (docs/shtrih-wire-notes.md §2.9,
docs/fiscal-law-notes.md §1.1, docs/fn-documents.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final

from agent.drivers.shtrih.frame import MAX_PAYLOAD_LEN
from agent.drivers.shtrih.wire import MAX_U16, Command, PasswordRequest, check_range, password_bytes

__all__ = [
    "MAX_TLV_BYTES",
    "Tag",
    "TlvItem",
    "WriteTlvRequest",
    "WriteTlvResponse",
    "decode_tlv",
    "encode_tlv",
    "tlv_stlv",
    "tlv_string",
]

MAX_TLV_BYTES: Final = min(250, MAX_PAYLOAD_LEN - 2 - 4)
"""TLV bytes one FF0C carries: at most 250 (§2.9), and a frame's one-byte LEN leaves 249
after ``FF 0C`` and the password, so 249."""
_TLV_ENCODING = "cp866"


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
class WriteTlvResponse:
    """FF0C answer: ``err`` only (§2.9)."""
