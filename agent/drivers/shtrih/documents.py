"""A fiscal document read back from the FN as TLV (FF3A/FF3B), decoded into a FiscalDocument.

Pure: bytes in, :class:`agent.drivers.interface.FiscalDocument` out. The layout of each tag
is in docs/fn-documents.md §2 (FFD types: U32, Byte, VLN, FVLN, UnixTime, the 6-byte FP,
strings in CP866). The decoder is tolerant where the FN may know more than the agent: a tag
it does not know is skipped, and a VAT rate it does not know is kept as the register's
number. It is strict where a wrong reading would mislead: a TLV cut short, a field of the
wrong size or a document without its FD, FP or time raises :class:`MalformedPayload`, never
an ``IndexError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Final, TypeVar

from agent.domain.money import QTY_SCALE, Kopecks, Micros
from agent.domain.receipt import Correction, CorrectionType, Payments, ReceiptKind, VatRate
from agent.drivers.errors import MalformedPayload
from agent.drivers.interface import MARK_NAME, DocumentLine, DocumentType, FiscalDocument
from agent.drivers.shtrih.commands import Command, TlvItem, decode_tlv

__all__ = ["RECEIPT_FORMS", "attach_zone", "decode_document"]

RECEIPT_FORMS: Final = frozenset({3, 4, 31, 41})
"""FFD form codes of documents with lines and payments: receipt, BSO and their corrections."""

_COMMAND = Command.READ_DOCUMENT_BLOCK
_TLV_ENCODING = "cp866"
_QTY_PLACES = len(str(QTY_SCALE)) - 1  # Micros carry six decimal places
_MAX_VLN_BYTES = 8
_FP_BYTES = 6

_DATE_TIME = 1012
_TOTAL = 1020
_QUANTITY = 1023
_NAME = 1030
_CASH = 1031
_SHIFT = 1038
_FD = 1040
_NUMBER = 1042
_LINE_AMOUNT = 1043
_KIND = 1054
_LINE = 1059
_FP = 1077
_PRICE = 1079
_ELECTRONIC = 1081
_USER_REQUISITE = 1084
_USER_REQUISITE_NAME = 1085
_USER_REQUISITE_VALUE = 1086
_CORRECTION_TYPE = 1173
_CORRECTION_BASIS = 1174
_CORRECTION_BASIS_DATE = 1178
_VAT = 1199
_PREPAID = 1215

_DOCUMENT_TYPES = frozenset(int(t) for t in DocumentType)
_VAT_RATES = {rate.value: rate for rate in VatRate}
_KINDS = {kind.value: kind for kind in ReceiptKind}


def attach_zone(wall: datetime, tz: tzinfo | None) -> datetime:
    """The register's wall time made aware in its zone; ``None`` means the host's zone."""
    if tz is None:
        return wall.astimezone()
    return wall.replace(tzinfo=tz)


def decode_document(document_type: int, data: bytes, *, tz: tzinfo | None) -> FiscalDocument:
    """Decode the TLV that FF3B returned for one document (FF3A gave its type).

    A receipt-like document (:data:`RECEIPT_FORMS`) comes with its lines, payments (cash net
    of change, as tag 1031 stores it), shift, number in the shift and mark; other documents
    with their shift when they carry one. ``tz`` is the register's zone (1012 is its wall
    clock).

    Raises:
        MalformedPayload: the TLV is cut short, a field has the wrong size, or the FD, FP or
            time is missing.
    """
    fields = _Fields()
    for item in _split(data, "document"):
        fields.take(item)
    fd, fp, wall = fields.fd, fields.fp, fields.issued_at
    if fd is None or fp is None or wall is None:
        named = (("1040 FD", fd), ("1077 FP", fp), ("1012 date-time", wall))
        missing = ", ".join(name for name, value in named if value is None)
        raise MalformedPayload(_COMMAND, f"document lacks {missing}")
    known_type: DocumentType | int = (
        DocumentType(document_type) if document_type in _DOCUMENT_TYPES else document_type
    )
    issued_at = attach_zone(wall, tz)
    if document_type not in RECEIPT_FORMS:
        return FiscalDocument(
            fd=fd, type=known_type, fp=fp, issued_at=issued_at, shift=fields.shift, is_whole=True
        )
    return FiscalDocument(
        fd=fd,
        type=known_type,
        fp=fp,
        issued_at=issued_at,
        kind=None if fields.kind is None else _KINDS.get(fields.kind),
        total=fields.total,
        shift=fields.shift,
        number=fields.number,
        items=tuple(fields.lines),
        payments=Payments(
            cash=fields.cash or Kopecks(0),
            card=fields.electronic or Kopecks(0),
            prepaid=fields.prepaid or Kopecks(0),
        ),
        mark=fields.mark(),
        correction=fields.correction(),
        is_whole=True,
    )


@dataclass(slots=True)
class _Fields:
    """The tags of one document, gathered as they come; the first of a repeated tag counts."""

    fd: int | None = None
    fp: int | None = None
    issued_at: datetime | None = None
    shift: int | None = None
    number: int | None = None
    kind: int | None = None
    total: Kopecks | None = None
    cash: Kopecks | None = None
    electronic: Kopecks | None = None
    prepaid: Kopecks | None = None
    lines: list[DocumentLine] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    correction_type: int | None = None
    basis_date: date | None = None

    def take(self, item: TlvItem) -> None:  # noqa: C901, PLR0912 one flat dispatch on the tag
        tag = item.tag
        if tag == _FD:
            self.fd = _first(self.fd, _u32(item))
        elif tag == _FP:
            self.fp = _first(self.fp, _fp(item))
        elif tag == _DATE_TIME:
            self.issued_at = _first(self.issued_at, _unixtime(item))
        elif tag == _SHIFT:
            self.shift = _first(self.shift, _u32(item))
        elif tag == _NUMBER:
            self.number = _first(self.number, _u32(item))
        elif tag == _KIND:
            self.kind = _first(self.kind, _byte(item))
        elif tag == _TOTAL:
            self.total = _first(self.total, _vln(item))
        elif tag == _CASH:
            self.cash = _first(self.cash, _vln(item))
        elif tag == _ELECTRONIC:
            self.electronic = _first(self.electronic, _vln(item))
        elif tag == _PREPAID:
            self.prepaid = _first(self.prepaid, _vln(item))
        elif tag == _LINE:
            self.lines.append(_line(item))
        elif tag == _USER_REQUISITE:
            mark = _mark(item)
            if mark is not None:
                self.marks.append(mark)
        elif tag == _CORRECTION_TYPE:
            self.correction_type = _first(self.correction_type, _byte(item))
        elif tag == _CORRECTION_BASIS:
            self.basis_date = _first(self.basis_date, _basis_date(item))
        # Any other tag (FN serial, tax system, cashier, 1216/1217, ...) is not ours to read.

    def correction(self) -> Correction | None:
        """1173 and 1178 as a correction; None unless both are there and 1173 is known."""
        if self.correction_type is None or self.basis_date is None:
            return None
        if self.correction_type not in {int(t) for t in CorrectionType}:
            return None
        return Correction(type=CorrectionType(self.correction_type), settled_on=self.basis_date)

    def mark(self) -> str | None:
        """The value of the requisite named :data:`MARK_NAME`; two different ones are an error."""
        distinct = set(self.marks)
        if len(distinct) > 1:
            raise MalformedPayload(_COMMAND, f"document carries {len(distinct)} different marks")
        return self.marks[0] if self.marks else None


_T = TypeVar("_T")


def _first(current: _T | None, new: _T) -> _T:
    """The value already read, if any: the first of a repeated tag counts."""
    return new if current is None else current


def _split(data: bytes, where: str) -> tuple[TlvItem, ...]:
    try:
        return decode_tlv(data)
    except ValueError as exc:
        raise MalformedPayload(_COMMAND, f"{where}: {exc}") from exc


def _sized(item: TlvItem, size: int, kind: str) -> bytes:
    if len(item.value) != size:
        detail = f"tag {item.tag} ({kind}) must be {size} byte(s), got {len(item.value)}"
        raise MalformedPayload(_COMMAND, detail)
    return item.value


def _u32(item: TlvItem) -> int:
    return int.from_bytes(_sized(item, 4, "U32"), "little")


def _byte(item: TlvItem) -> int:
    return _sized(item, 1, "Byte")[0]


def _vln(item: TlvItem) -> Kopecks:
    if not 1 <= len(item.value) <= _MAX_VLN_BYTES:
        detail = f"tag {item.tag} (VLN) must be 1..{_MAX_VLN_BYTES} bytes, got {len(item.value)}"
        raise MalformedPayload(_COMMAND, detail)
    return Kopecks(int.from_bytes(item.value, "little"))


def _fvln(item: TlvItem) -> Micros:
    """FVLN: byte 0 the decimal places, then the digits as an unsigned LE integer."""
    value = item.value
    if not 2 <= len(value) <= _MAX_VLN_BYTES + 1:
        detail = f"tag {item.tag} (FVLN) must be 2..{_MAX_VLN_BYTES + 1} bytes, got {len(value)}"
        raise MalformedPayload(_COMMAND, detail)
    places = value[0]
    digits = int.from_bytes(value[1:], "little")
    if places <= _QTY_PLACES:
        return Micros(digits * 10 ** (_QTY_PLACES - places))
    divisor = 10 ** (places - _QTY_PLACES)
    if digits % divisor:
        detail = f"tag {item.tag}: {places} decimal places do not fit millionths"
        raise MalformedPayload(_COMMAND, detail)
    return Micros(digits // divisor)


def _string(item: TlvItem) -> str:
    return item.value.decode(_TLV_ENCODING)  # CP866 maps every byte: this cannot fail


def _unixtime(item: TlvItem) -> datetime:
    """1012: seconds of the register's wall clock, counted as if it were UTC."""
    seconds = _u32(item)
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _fp(item: TlvItem) -> int:
    """1077: two bytes (zero), then the 4-byte fiscal sign big-endian as it is printed."""
    return int.from_bytes(_sized(item, _FP_BYTES, "FP")[2:], "big")


def _line(item: TlvItem) -> DocumentLine:
    """1059: one item line; name, price, quantity, amount and VAT rate must all be there."""
    name: str | None = None
    price: Kopecks | None = None
    qty: Micros | None = None
    amount: Kopecks | None = None
    vat: int | None = None
    for child in _split(item.value, "tag 1059"):
        if child.tag == _NAME:
            name = _first(name, _string(child))
        elif child.tag == _PRICE:
            price = _first(price, _vln(child))
        elif child.tag == _QUANTITY:
            qty = _first(qty, _fvln(child))
        elif child.tag == _LINE_AMOUNT:
            amount = _first(amount, _vln(child))
        elif child.tag == _VAT:
            vat = _first(vat, _byte(child))
    if name is None or price is None or qty is None or amount is None or vat is None:
        named = ((_NAME, name), (_PRICE, price), (_QUANTITY, qty), (_LINE_AMOUNT, amount))
        missing = [str(tag) for tag, value in (*named, (_VAT, vat)) if value is None]
        raise MalformedPayload(_COMMAND, f"tag 1059 lacks {', '.join(missing)}")
    return DocumentLine(
        name=name, qty=qty, price=price, amount=amount, vat=_VAT_RATES.get(vat, vat)
    )


def _basis_date(item: TlvItem) -> date | None:
    """1174: the date of the corrected settlement (1178), None when the basis lacks it."""
    for child in _split(item.value, "tag 1174"):
        if child.tag == _CORRECTION_BASIS_DATE:
            return _unixtime(child).date()
    return None


def _mark(item: TlvItem) -> str | None:
    """1084: the value (1086) when its name (1085) is :data:`MARK_NAME`, else None."""
    name: str | None = None
    value: str | None = None
    for child in _split(item.value, "tag 1084"):
        if child.tag == _USER_REQUISITE_NAME:
            name = _first(name, _string(child))
        elif child.tag == _USER_REQUISITE_VALUE:
            value = _first(value, _string(child))
    return value if name == MARK_NAME else None
