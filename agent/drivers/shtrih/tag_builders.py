"""The tags the Shtrih driver builds for FF0C: the cashier's (1021, 1203) and the mark (1084).

Correction receipts' tags (1173, 1174/1178) are :mod:`agent.drivers.shtrih.correction_tags`.
"""

from __future__ import annotations

from typing import Final

from agent.domain.receipt import Cashier
from agent.drivers.interface import MARK_NAME
from agent.drivers.shtrih.commands import MAX_TLV_BYTES, Tag, TlvItem, tlv_stlv, tlv_string

_TLV_ENCODING = "cp866"  # FFD strings (docs/fn-documents.md §2)
_TLV_HEADER_BYTES = 4


MAX_MARK_BYTES: Final = MAX_TLV_BYTES - 3 * _TLV_HEADER_BYTES - len(MARK_NAME.encode(_TLV_ENCODING))
"""The longest mark (CP866 bytes) whose tag 1084 still fits one FF0C: 231."""


def mark_tlv(mark: str) -> TlvItem:
    """Tag 1084: 1085 :data:`MARK_NAME` and 1086 the mark, CP866 (docs/fn-documents.md §2)."""
    try:
        value = mark.encode(_TLV_ENCODING)
    except UnicodeEncodeError as exc:
        msg = f"the mark must be CP866 text (the FN stores it so): {mark!r}"
        raise ValueError(msg) from exc
    if not 0 < len(value) <= MAX_MARK_BYTES:
        msg = f"the mark must be 1..{MAX_MARK_BYTES} bytes in CP866, got {len(value)}"
        raise ValueError(msg)
    name = tlv_string(Tag.USER_REQUISITE_NAME, MARK_NAME)
    return tlv_stlv(Tag.USER_REQUISITE, (name, TlvItem(tag=Tag.USER_REQUISITE_VALUE, value=value)))


def cashier_tags(cashier: Cashier) -> list[TlvItem]:
    """Tag 1021, the cashier's name, and 1203, the cashier's INN when there is one."""
    tags = [tlv_string(Tag.CASHIER_NAME, cashier.name)]
    if cashier.inn:
        tags.append(tlv_string(Tag.CASHIER_INN, cashier.inn))
    return tags
