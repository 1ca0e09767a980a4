"""Correction receipts on the simulated register (FFD 1.2 form 31, docs/corrections.md).

Pure. A correction receipt is begun with FF35 and then built as a receipt is (FF46 lines,
FF0C tags, FF45 payments); the FN refuses to close it without tag 1173 (the correction
type) and tag 1174 holding 1178 (the date of the settlement it corrects). At the Z report
the shift's corrections are counted apart from its receipts, as tag 1133 does: their
number (1144) and, per calculation sign, their money by payment form.
"""

from __future__ import annotations

from collections.abc import Iterable

from firmware_sim.commands import ErrorCode, Refusal
from firmware_sim.state import (
    PAYMENT_TYPES,
    DocType,
    DocumentTags,
    FnDocument,
    ReceiptKind,
    SignTotals,
)

__all__ = ["check_correction_tags", "correction_totals"]

_CASH, _LAST_ELECTRONIC, _PREPAID = 1, 13, 14


def check_correction_tags(tags: DocumentTags) -> None:
    """Refuse (FN 0x09) to close a correction receipt that lacks 1173 or 1174/1178."""
    missing = [
        name
        for name, value in (("1173", tags.correction_type), ("1174/1178", tags.correction_date))
        if value is None
    ]
    if missing:
        raise Refusal(
            ErrorCode.FN_BAD_PARAMETERS, f"a correction receipt needs tag {', '.join(missing)}"
        )


def correction_totals(documents: Iterable[FnDocument], kind: ReceiptKind) -> SignTotals:
    """The money and count of the correction receipts of one sign among ``documents``."""
    cash = card = prepaid = other = count = 0
    for doc in documents:
        if doc.type is not DocType.CORRECTION or doc.kind is not kind:
            continue
        pays = doc.payments or (0,) * PAYMENT_TYPES
        cash += pays[_CASH - 1]
        card += sum(pays[_CASH:_LAST_ELECTRONIC])
        prepaid += pays[_PREPAID - 1]
        other += sum(pays[_PREPAID:])
        count += 1
    return SignTotals(cash=cash, card=card, prepaid=prepaid, other=other, count=count)
