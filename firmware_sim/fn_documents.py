"""The FN's documents as the FN reports them: FF0A's summary, FF3A/FF3B's TLV, the FP.

The TLV is read back the way docs/fn-documents.md describes. Pure and deterministic: a
document's TLV is generated from the stored :class:`FnDocument` every time it is read, so
the same FD always reads back the same bytes. Nothing here is stored; what the store keeps
is enough to rebuild it.

Encoding (tag u16 LE, length u16 LE, value): strings cp866, U32 4 bytes LE, Byte 1 byte,
VLN the shortest unsigned LE form (at least one byte), FVLN a byte of decimal places and
the digits as a shortest unsigned LE integer, UnixTime the register's wall-clock time read
as if it were UTC, FP (1077) two zero bytes and the 4-byte fiscal sign big-endian.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from firmware_sim.commands import fn_datetime, le
from firmware_sim.ffd import RECEIPT_VAT_TAGS, VAT_RATE_CODES, Tag
from firmware_sim.state import (
    PAYMENT_TYPES,
    RECEIPT_TYPES,
    DocType,
    DocumentTags,
    FnDocument,
    Item,
    VatRow,
)

__all__ = [
    "MAX_FF3B_BYTES",
    "document_tlvs",
    "find_answer",
    "fiscal_sign",
    "fvln",
    "read_chunks",
    "tlv",
    "vln",
]

MAX_FF3B_BYTES = 252
"""TLV bytes one FF3B answer can carry: a v1 frame's LEN (255) less FF 3B and the error."""

QTY_PLACES = 6  # Item.qty_micro is the quantity x 10^6
CASH, LAST_ELECTRONIC, PREPAID, CREDIT, PROVISION = 1, 13, 14, 15, 16


def fiscal_sign(fn_serial: str, doc: FnDocument) -> int:
    """A deterministic 10-digit stand-in for the FN's fiscal sign (FPD).

    A real FN signs with a secret key inside its crypto module; this HMAC-SHA256 keyed by
    the FN serial, truncated to 4 bytes, only has the same shape.
    """
    message = "|".join(
        str(part)
        for part in (
            doc.fd,
            doc.type.value,
            doc.issued_at.strftime("%Y%m%dT%H%M%S"),
            doc.shift,
            doc.number,
            None if doc.kind is None else doc.kind.value,
            doc.total,
        )
    ).encode()
    digest = hmac.new(fn_serial.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def find_answer(doc: FnDocument, *, is_acked: bool) -> bytes:
    """FF0A's data: type, OFD ticket, date-time, FD, FP, then sign + total or the shift."""
    head = (
        bytes([doc.type.fn_code, int(is_acked)])
        + fn_datetime(doc.issued_at)
        + le(doc.fd, 4)
        + le(doc.fp, 4)
    )
    if doc.type in RECEIPT_TYPES:
        assert doc.kind is not None
        assert doc.total is not None
        return head + bytes([doc.kind.sign]) + le(doc.total, 5)
    if doc.type in (DocType.OPEN_SHIFT, DocType.CLOSE_SHIFT):
        return head + le(doc.shift & 0xFFFF, 2)
    return head


def tlv(tag: int, value: bytes) -> bytes:
    """One TLV: tag u16 LE, length u16 LE, value."""
    return tag.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value


def vln(value: int) -> bytes:
    """VLN: unsigned little-endian, shortest form, at least one byte."""
    if value < 0:
        raise ValueError("VLN is unsigned")
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")


def fvln(qty_micro: int) -> bytes:
    """FVLN for a quantity x 10^6: the fewest decimal places that keep it exact (1.5 -> 1, 15)."""
    places, digits = QTY_PLACES, qty_micro
    while places and digits % 10 == 0:
        places -= 1
        digits //= 10
    return bytes([places]) + vln(digits)


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _string(value: str) -> bytes:
    return value.encode("cp866", errors="replace")


def _item(item: Item) -> bytes:
    """One 1059 STLV: name, unit price, quantity, amount, VAT rate, then 1200/1214/1212.

    1200 (the line's VAT) only when the host's tax sum was signed (tax mode 1).
    """
    children = [
        tlv(Tag.ITEM_NAME, _string(item.name)),
        tlv(Tag.UNIT_PRICE, vln(item.price)),
        tlv(Tag.QUANTITY, fvln(item.qty_micro)),
        tlv(Tag.ITEM_AMOUNT, vln(item.amount)),
        tlv(Tag.VAT_RATE, bytes([VAT_RATE_CODES[item.vat]])),
    ]
    if item.tax_sum is not None:
        children.append(tlv(Tag.ITEM_VAT, vln(item.tax_sum)))
    if item.method is not None:
        children.append(tlv(Tag.PAYMENT_METHOD, bytes([item.method])))
    if item.subject is not None:
        children.append(tlv(Tag.SUBJECT, bytes([item.subject])))
    return tlv(Tag.ITEM, b"".join(children))


def _correction_tags(tags: DocumentTags) -> list[bytes]:
    """A correction receipt's 1173 and 1174 (holding 1178), when written with FF0C."""
    out: list[bytes] = []
    if tags.correction_type is not None:
        out.append(tlv(Tag.CORRECTION_TYPE, bytes([tags.correction_type])))
    if tags.correction_date is not None:
        day = tags.correction_date
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        basis = tlv(Tag.CORRECTION_BASIS_DATE, _u32(int(midnight.timestamp())))
        out.append(tlv(Tag.CORRECTION_BASIS, basis))
    return out


def _user_tags(tags: DocumentTags) -> list[bytes]:
    """1021 and 1203 when written with FF0C, then the 1084 mark; 1008 is never kept."""
    out: list[bytes] = []
    if tags.cashier is not None:
        out.append(tlv(Tag.CASHIER, _string(tags.cashier)))
    if tags.cashier_inn is not None:
        out.append(tlv(Tag.CASHIER_INN, _string(tags.cashier_inn)))
    if tags.mark is not None:
        requisite = tlv(Tag.USER_REQUISITE_NAME, _string(tags.mark.name)) + tlv(
            Tag.USER_REQUISITE_VALUE, _string(tags.mark.value)
        )
        out.append(tlv(Tag.USER_REQUISITE, requisite))
    return out


def _receipt_vat(rows: tuple[VatRow, ...]) -> list[bytes]:
    """1102…1107 for the rows present, in tag order; rows of one tag (20 % and 22 %) added.

    1104 and 1105 carry the turnover at 0 % and without VAT, the others the VAT; 5 %, 7 %,
    5/105 and 7/107 have no receipt-level tag.
    """
    sums: dict[int, int] = {}
    for row in rows:
        if row.code in RECEIPT_VAT_TAGS:
            tag, is_turnover = RECEIPT_VAT_TAGS[row.code]
            sums[tag] = sums.get(tag, 0) + (row.turnover if is_turnover else row.vat)
    return [tlv(tag, vln(value)) for tag, value in sorted(sums.items())]


def _receipt_body(doc: FnDocument) -> list[bytes]:
    """1042 … 1059 of a receipt, in the order docs/fn-documents.md gives."""
    assert doc.kind is not None
    assert doc.total is not None
    pays = doc.payments or (0,) * PAYMENT_TYPES
    out = [
        tlv(Tag.RECEIPT_NUMBER, _u32(doc.number or 0)),
        tlv(Tag.CALCULATION_SIGN, bytes([doc.kind.sign])),
    ]
    if doc.tax_system is not None:
        out.append(tlv(Tag.TAX_SYSTEM, bytes([doc.tax_system])))
    out += [
        tlv(Tag.TOTAL, vln(doc.total)),
        tlv(Tag.CASH, vln(pays[CASH - 1])),
        tlv(Tag.ELECTRONIC, vln(sum(pays[CASH:LAST_ELECTRONIC]))),
        tlv(Tag.PREPAID, vln(pays[PREPAID - 1])),
    ]
    if pays[CREDIT - 1]:
        out.append(tlv(Tag.CREDIT, vln(pays[CREDIT - 1])))
    if pays[PROVISION - 1]:
        out.append(tlv(Tag.PROVISION, vln(pays[PROVISION - 1])))
    out += _receipt_vat(doc.vat)
    out += [_item(item) for item in doc.items]
    return out


def _backlog_body(doc: FnDocument) -> list[bytes]:
    """1097, then 1098 and 1116 when something is unsent: a calculation-state report."""
    backlog = doc.backlog
    assert backlog is not None
    out = [tlv(Tag.UNSENT_COUNT, _u32(backlog.count))]
    if backlog.first_at is not None:
        wall_clock_as_utc = backlog.first_at.replace(tzinfo=UTC)
        out.append(tlv(Tag.FIRST_UNSENT_AT, _u32(int(wall_clock_as_utc.timestamp()))))
        out.append(tlv(Tag.FIRST_UNSENT_FD, _u32(backlog.first_fd)))
    return out


def document_tlvs(doc: FnDocument, *, fn_serial: str) -> list[bytes]:
    """The document's top-level TLVs in FF3B order (the document's own STLV header excluded)."""
    wall_clock_as_utc = doc.issued_at.replace(tzinfo=UTC)
    out = [
        tlv(Tag.DATE_TIME, _u32(int(wall_clock_as_utc.timestamp()))),
        tlv(Tag.FD, _u32(doc.fd)),
        tlv(Tag.FN_SERIAL, _string(fn_serial)),
        tlv(Tag.FP, bytes(2) + doc.fp.to_bytes(4, "big")),
    ]
    if doc.type is DocType.REGISTRATION:
        return out
    out.append(tlv(Tag.SHIFT, _u32(doc.shift)))
    if doc.type in RECEIPT_TYPES:
        out += _receipt_body(doc)
    if doc.type is DocType.CORRECTION:
        out += _correction_tags(doc.tags)
    if doc.backlog is not None:
        out += _backlog_body(doc)
    return out + _user_tags(doc.tags)


def read_chunks(tlvs: list[bytes]) -> list[bytes]:
    """What successive FF3B answers carry: one TLV each, a TLV over 252 bytes split in order."""
    chunks: list[bytes] = []
    for item in tlvs:
        chunks += [item[pos : pos + MAX_FF3B_BYTES] for pos in range(0, len(item), MAX_FF3B_BYTES)]
    return chunks
