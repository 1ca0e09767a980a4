"""FN archive read-back, pure: FF0A, FF3A and FF3B.

FF0A finds a fiscal document by number, FF3A starts reading one as TLV and FF3B returns its
next block (docs/shtrih-wire-notes.md §2.9, docs/fn-documents.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import ClassVar

from agent.drivers.shtrih.commands._layout import MONEY_BYTES, enum_or_int
from agent.drivers.shtrih.commands.receipt import OperationType
from agent.drivers.shtrih.wire import (
    MAX_U32,
    Command,
    PasswordRequest,
    Reader,
    check_range,
    password_bytes,
)

__all__ = [
    "BeginReadDocumentRequest",
    "BeginReadDocumentResponse",
    "FindDocumentRequest",
    "FindDocumentResponse",
    "FnDocumentType",
    "ReadDocumentBlockRequest",
    "ReadDocumentBlockResponse",
    "decode_begin_read_document",
    "decode_document_block",
    "decode_find_document",
]


class FnDocumentType(IntEnum):
    """FF0A byte 1: the type of an archived fiscal document (§2.9)."""

    REGISTRATION = 1
    OPEN_SHIFT = 2
    RECEIPT = 3
    BSO = 4
    CLOSE_SHIFT = 5
    CALCULATION_STATE = 21  # отчёт о текущем состоянии расчётов (FF38)
    CORRECTION = 31  # FFD form code of a correction receipt; what FF0A gives is unconfirmed


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


_MONEY_DOCUMENTS = frozenset(
    {FnDocumentType.RECEIPT, FnDocumentType.BSO, FnDocumentType.CORRECTION}
)
_SHIFT_DOCUMENTS = frozenset({FnDocumentType.OPEN_SHIFT, FnDocumentType.CLOSE_SHIFT})


def decode_find_document(r: Reader) -> FindDocumentResponse:
    """The FF0A answer body after the error byte."""
    document_type = enum_or_int(FnDocumentType, r.uint(1, "document type"))
    has_ofd_ticket = r.flag("OFD ticket")
    issued_at = r.fn_datetime("date-time")
    fd = r.uint(4, "FD")
    fp = r.uint(4, "fiscal sign")
    if document_type in _MONEY_DOCUMENTS:
        operation = enum_or_int(OperationType, r.uint(1, "operation"))
        amount = r.uint(MONEY_BYTES, "amount")
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


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginReadDocumentRequest(FindDocumentRequest):
    """FF3A Запросить фискальный документ в TLV формате (docs/fn-documents.md §1).

    Sysadmin password. Starts reading the document back; FF3B then returns its TLV.

    ::

        FF 3A | password u32 | FD number u32
    """

    command: ClassVar[Command] = Command.BEGIN_READ_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginReadDocumentResponse:
    """FF3A answer: ``err | document type u16 | length u16`` (docs/fn-documents.md §1).

    ``document_type`` is the FFD form code of the document (3 receipt, 31 correction
    receipt, ...); ``length`` the byte length of the TLV that FF3B returns in total.
    """

    document_type: FnDocumentType | int
    length: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDocumentBlockRequest(PasswordRequest):
    """FF3B Чтение TLV фискального документа: the next block of the document (§1).

    ::

        FF 3B | password u32
    """

    command: ClassVar[Command] = Command.READ_DOCUMENT_BLOCK


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDocumentBlockResponse:
    """FF3B answer: ``err | TLV...`` (docs/fn-documents.md §1).

    ``data`` is the rest of the frame: one whole top-level TLV on the registers seen so far,
    but the host joins the blocks and splits the result, never trusting a block boundary.
    """

    data: bytes


def decode_begin_read_document(r: Reader) -> BeginReadDocumentResponse:
    """The FF3A answer body after the error byte."""
    document_type = enum_or_int(FnDocumentType, r.uint(2, "document type"))
    length = r.uint(2, "document length")
    r.done()
    return BeginReadDocumentResponse(document_type=document_type, length=length)


def decode_document_block(r: Reader) -> ReadDocumentBlockResponse:
    """The FF3B answer body after the error byte."""
    return ReadDocumentBlockResponse(data=r.rest())
