"""Task results as ATOL's driver returns them (docs/atol-web-notes.md §4): pure JSON builders.

Money goes out as a number of roubles, times as ISO 8601 with the register's offset,
``fiscalDocumentSign`` (ФПД), ``fnNumber`` and ``registrationNumber`` as strings.
"""

from __future__ import annotations

from typing import Any

from firmware_sim.ffd import VAT_RATE_CODES
from firmware_sim.register import Register, ShiftStatus
from firmware_sim.state import (
    CASH,
    CREDIT,
    PREPAID,
    PROVISION,
    RECEIPT_TYPES,
    DocType,
    FnDocument,
    Item,
)

__all__ = [
    "FNS_URL",
    "document_tlv",
    "fiscal_params",
    "money",
    "registration_number",
    "shift_status",
]

FNS_URL = "www.nalog.gov.ru"
_DOC_TYPES = {
    DocType.REGISTRATION: "registration",
    DocType.OPEN_SHIFT: "openShift",
    DocType.RECEIPT: "receipt",
    DocType.CLOSE_SHIFT: "closeShift",
    DocType.CORRECTION: "receiptCorrection",
    DocType.CALCULATION_STATE: "ofdExchangeStatus",
}
_TAX_TYPES = {  # the register's tax-table code -> ATOL tax.type
    "none": "none",
    "vat0": "vat0",
    "vat5": "vat5",
    "vat7": "vat7",
    "vat10": "vat10",
    "vat20": "vat20",
    "vat22": "vat22",
    "vat5_105": "vat105",
    "vat7_107": "vat107",
    "vat10_110": "vat110",
    "vat20_120": "vat120",
    "vat22_122": "vat122",
}


def money(kopecks: int) -> float:
    """Kopecks as ATOL's JSON number of roubles."""
    return round(kopecks / 100, 2)


def atol_tax_type(code: str) -> str:
    """The ATOL ``tax.type`` name of a tax-table code."""
    return _TAX_TYPES[code]


def registration_number(register: Register) -> str:
    """The register's registration number (РН ККТ), 16 digits, derived from its serial."""
    return register.config.serial.zfill(16)


def fiscal_params(register: Register, doc: FnDocument) -> dict[str, Any]:
    """``fiscalParams`` of a receipt or a shift document."""
    params: dict[str, Any] = {
        "fiscalDocumentNumber": doc.fd,
        "fiscalDocumentSign": f"{doc.fp:010d}",
        "fiscalDocumentDateTime": doc.issued_at.isoformat(),
        "shiftNumber": doc.shift,
        "fnNumber": register.config.fn_serial,
        "registrationNumber": registration_number(register),
        "fnsUrl": FNS_URL,
    }
    if doc.type in RECEIPT_TYPES:
        params["fiscalReceiptNumber"] = doc.number
        params["total"] = money(doc.total or 0)
    if doc.counters is not None:
        params["receiptsCount"] = doc.counters.receipts
    return params


def shift_status(status: ShiftStatus) -> dict[str, Any]:
    """``getShiftStatus``'s ``shiftStatus`` object."""
    out: dict[str, Any] = {
        "state": status.state.value,
        "number": status.number,
        "documentsCount": status.documents,
    }
    if status.expires_at is not None:
        out["expiredTime"] = status.expires_at.isoformat()
    return out


def _item_tlv(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "1030": item.name,
        "1079": money(item.price),
        "1023": item.qty_micro / 1_000_000,
        "1043": money(item.amount),
        "1199": VAT_RATE_CODES[item.vat],  # the FN's byte, as FFD defines the tag
    }
    if item.method is not None:
        out["1214"] = item.method
    if item.subject is not None:
        out["1212"] = item.subject
    return out


def _qr(register: Register, doc: FnDocument) -> str:
    stamp = doc.issued_at.strftime("%Y%m%dT%H%M")
    total = money(doc.total or 0)
    sign = 1 if doc.kind is None else doc.kind.sign
    return f"t={stamp}&s={total:.2f}&fn={register.config.fn_serial}&i={doc.fd}&fp={doc.fp}&n={sign}"


def document_tlv(register: Register, doc: FnDocument) -> dict[str, Any]:
    """``getFnDocument``'s ``documentTLV``: the document's tags by number, STLVs nested."""
    tlv: dict[str, Any] = {
        "fiscalDocumentType": _DOC_TYPES[doc.type],
        "short": False,
        "1040": doc.fd,
        "1041": register.config.fn_serial,
        "1037": registration_number(register),
        "1077": f"{doc.fp:010d}",
        "1012": doc.issued_at.isoformat(),
        "1038": doc.shift,
    }
    if doc.type in RECEIPT_TYPES:
        assert doc.kind is not None
        pays = doc.payments or (0,) * 16
        tlv |= {
            "qr": _qr(register, doc),
            "1042": doc.number,
            "1054": doc.kind.sign,
            "1020": money(doc.total or 0),
            "1031": money(pays[CASH - 1]),
            "1081": money(sum(pays[1 : PREPAID - 1])),
            "1215": money(pays[PREPAID - 1]),
            "1216": money(pays[CREDIT - 1]),
            "1217": money(pays[PROVISION - 1]),
            "1059": [_item_tlv(item) for item in doc.items],
        }
        if doc.tax_system is not None:
            tlv["1055"] = doc.tax_system
    tags = doc.tags
    if tags.cashier is not None:
        tlv["1021"] = tags.cashier
    if tags.cashier_inn is not None:
        tlv["1203"] = tags.cashier_inn
    if tags.mark is not None:
        tlv["1084"] = {"1085": tags.mark.name, "1086": tags.mark.value}
    return tlv
