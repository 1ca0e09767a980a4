"""``getFnDocument``'s ``documentTLV`` as a FiscalDocument (docs/atol-driver.md §4.4). Pure.

The document comes as a JSON object keyed by FFD tag numbers (as strings, JSON's keys) beside
``fiscalDocumentType``. A receipt's lines are a list under 1059, each an object of its own
tags; the mark is 1084 holding 1085 (name) and 1086 (value), one object or a list of them.
Money is roubles, a number or a numeric string; times ISO 8601.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, Final

from agent.domain.money import Kopecks
from agent.domain.receipt import Correction, CorrectionType, Payments, ReceiptKind, VatRate
from agent.drivers.atol.codec.tasks import VAT_TYPES
from agent.drivers.atol.codec.values import (
    MalformedResult,
    as_date,
    as_dict,
    as_int,
    as_kopecks,
    as_micros,
    as_str,
    as_time,
    field,
)
from agent.drivers.interface import MARK_NAME, DocumentLine, DocumentType, FiscalDocument

__all__ = ["DOCUMENT_TYPES", "fn_document", "mark_of"]

DOCUMENT_TYPES: Final = {
    "registration": DocumentType.REGISTRATION,
    "openShift": DocumentType.OPEN_SHIFT,
    "receipt": DocumentType.RECEIPT,
    "bso": DocumentType.BSO,
    "closeShift": DocumentType.CLOSE_SHIFT,
    "ofdExchangeStatus": DocumentType.CALCULATION_STATE,
    "receiptCorrection": DocumentType.CORRECTION,
}
"""``fiscalDocumentType`` names -> the FD types the agent knows."""

_KINDS: Final = {1: ReceiptKind.SALE, 2: ReceiptKind.REFUND}


def _tag(doc: dict[str, Any], tag: int) -> object:
    """The value of ``tag`` (JSON key ``"1040"``; an int key is taken too), or None."""
    if str(tag) in doc:
        return doc[str(tag)]
    return doc.get(tag)  # type: ignore[call-overload]


def _required(doc: dict[str, Any], tag: int) -> object:
    value = _tag(doc, tag)
    if value is None:
        raise MalformedResult(f"no tag {tag} in the document")
    return value


def _doc_type(doc: dict[str, Any]) -> DocumentType | int:
    name = doc.get("fiscalDocumentType")
    if isinstance(name, str) and name in DOCUMENT_TYPES:
        return DOCUMENT_TYPES[name]
    if name is None:
        raise MalformedResult("no fiscalDocumentType in the document")
    number = as_int(name, "fiscalDocumentType")
    try:
        return DocumentType(number)
    except ValueError:
        return number


def mark_of(doc: dict[str, Any]) -> str | None:
    """The value of the 1084 named :data:`MARK_NAME`, or None when there is none."""
    raw = _tag(doc, 1084)
    attributes = raw if isinstance(raw, list) else [raw] if raw is not None else []
    for attribute in attributes:
        if isinstance(attribute, dict) and _tag(attribute, 1085) == MARK_NAME:
            value = _tag(attribute, 1086)
            return None if value is None else as_str(value, "1086")
    return None


_RATES_BY_NAME: Final = {name: rate for rate, name in VAT_TYPES.items()}


def _vat(value: object) -> VatRate | int:
    """1199 as the FFD byte (what the simulator gives), or ATOL's ``tax.type`` name.

    Which of the two the real driver gives is unconfirmed (docs/atol-driver.md §8).
    """
    if isinstance(value, str) and value in _RATES_BY_NAME:
        return _RATES_BY_NAME[value]
    number = as_int(value, "1199")
    try:
        return VatRate(number)
    except ValueError:
        return number


def _line(raw: object) -> DocumentLine:
    line = as_dict(raw, "a 1059 line")
    return DocumentLine(
        name=as_str(_required(line, 1030), "1030"),
        qty=as_micros(_required(line, 1023), "1023"),
        price=as_kopecks(_required(line, 1079), "1079"),
        amount=as_kopecks(_required(line, 1043), "1043"),
        vat=_vat(_required(line, 1199)),
    )


def _money(doc: dict[str, Any], tag: int) -> Kopecks:
    value = _tag(doc, tag)
    return Kopecks(0) if value is None else as_kopecks(value, str(tag))


def _correction(doc: dict[str, Any]) -> Correction | None:
    kind = _tag(doc, 1173)
    if kind is None:
        return None
    basis = as_dict(_required(doc, 1174), "1174")
    return Correction(
        type=CorrectionType(as_int(kind, "1173")),
        settled_on=as_date(_required(basis, 1178), "1178"),
    )


def fn_document(
    result: dict[str, Any] | None, fd: int, zone: tzinfo | None, *, whole: bool
) -> FiscalDocument:
    """The document FD ``fd`` from ``{"documentTLV": {...}}``.

    ``whole``: a receipt also gets its lines, payments and mark (``is_whole`` True); without
    it only the header is kept, as :meth:`FiscalDriver.find_document` promises.
    """
    doc = as_dict(field(result, "documentTLV"), "documentTLV")
    doc_type = _doc_type(doc)
    number = as_int(_tag(doc, 1040) if _tag(doc, 1040) is not None else fd, "1040")
    if number != fd:
        raise MalformedResult(f"asked for FD {fd}, the FN gave FD {number}")
    issued_at = as_time(_required(doc, 1012), "1012", zone)
    fp = as_int(_required(doc, 1077), "1077")
    shift_raw = _tag(doc, 1038)
    shift = None if shift_raw is None else as_int(shift_raw, "1038")
    is_receipt = doc_type in (DocumentType.RECEIPT, DocumentType.CORRECTION)
    if not is_receipt:
        return FiscalDocument(
            fd=fd, type=doc_type, fp=fp, issued_at=issued_at, shift=shift, is_whole=whole
        )
    kind = _KINDS.get(as_int(_required(doc, 1054), "1054"))
    total = as_kopecks(_required(doc, 1020), "1020")
    if not whole:
        return FiscalDocument(
            fd=fd, type=doc_type, fp=fp, issued_at=issued_at, kind=kind, total=total
        )
    lines = _tag(doc, 1059)
    if not isinstance(lines, list):
        lines = [] if lines is None else [lines]
    number_raw = _tag(doc, 1042)
    return FiscalDocument(
        fd=fd,
        type=doc_type,
        fp=fp,
        issued_at=issued_at,
        kind=kind,
        total=total,
        shift=shift,
        number=None if number_raw is None else as_int(number_raw, "1042"),
        items=tuple(_line(raw) for raw in lines),
        payments=Payments(
            cash=_money(doc, 1031), card=_money(doc, 1081), prepaid=_money(doc, 1215)
        ),
        mark=mark_of(doc),
        correction=_correction(doc),
        is_whole=True,
    )
