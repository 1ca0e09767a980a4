"""The tags that make a Shtrih receipt a correction receipt (FFD 1.2, docs/corrections.md).

Pure. After FF35 (begin a correction receipt) the lines go as FF46 and the payments as FF45,
as for a receipt; what differs is written with FF0C: tag 1173 (the correction type, one
byte) and tag 1174 (the basis, an STLV) holding 1178, the date of the settlement being
corrected, as UnixTime (the register's wall-clock midnight of that date, read as UTC: the
FN's convention for dates, as for 1012).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from agent.domain.receipt import Correction
from agent.drivers.shtrih.commands import Tag, TlvItem, tlv_stlv

__all__ = ["basis_date_value", "correction_tags"]


def basis_date_value(settled_on: date) -> bytes:
    """1178: the date's midnight as seconds since 1970 counted as UTC, u32 LE."""
    midnight = datetime(settled_on.year, settled_on.month, settled_on.day, tzinfo=UTC)
    return int(midnight.timestamp()).to_bytes(4, "little")


def correction_tags(correction: Correction) -> list[TlvItem]:
    """1173 (the type's byte) and 1174 holding 1178."""
    basis_date = TlvItem(
        tag=Tag.CORRECTION_BASIS_DATE, value=basis_date_value(correction.settled_on)
    )
    return [
        TlvItem(tag=Tag.CORRECTION_TYPE, value=bytes([int(correction.type)])),
        tlv_stlv(Tag.CORRECTION_BASIS, (basis_date,)),
    ]
