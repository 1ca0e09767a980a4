"""FF0C: the user tags a host writes into the open receipt or the begun shift document.

Pure. :func:`decode_writes` checks every TLV of one FF0C before anything changes (a bad one
refuses the whole command with FN 0x09, as the device does); :func:`apply_writes` then puts
them into the document's :class:`DocumentTags`. Strings are cp866 (docs/fn-documents.md).

Tag 1084 (the user requisite) is an STLV of exactly one 1085 name (1..64 characters) and one
1086 value (1..256 characters); the agent writes its mark there: "CRM ID" = the request id.
A second 1084 in one document is refused with 0x33, as Shtrih firmware refuses a repeated
document-level tag ("не допускается повтор тега"); 1021 and 1203 written twice keep the last.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from firmware_sim.commands import ErrorCode, Refusal, parse_tlv
from firmware_sim.ffd import MARK_NAME_MAX, MARK_VALUE_MAX, Tag
from firmware_sim.state import DocumentTags, Mark

__all__ = ["MAX_TLV_BYTES", "TagWrite", "apply_writes", "decode_writes"]

MAX_TLV_BYTES = 250
"""FF0C carries at most 250 bytes of TLV; more answers FN 0x10."""

_STRING_LIMITS: dict[int, int] = {Tag.CONTACT: 64, Tag.CASHIER: 64, Tag.CASHIER_INN: 12}

TagWrite = tuple[int, bytes | Mark | date]
"""One checked FF0C TLV: its tag and raw value, the decoded 1084 mark or 1174's 1178 date."""

_CORRECTION_TYPES = (0, 1)  # 1173: 0 self-initiated, 1 by the tax authority's order


def _text(value: bytes) -> str:
    return value.decode("cp866")  # every byte is a cp866 character


def _decode_mark(value: bytes) -> Mark:
    """1084's value: one 1085 and one 1086, nothing else, within their lengths."""
    children = parse_tlv(value, error=ErrorCode.FN_BAD_PARAMETERS)
    found: dict[int, bytes] = {}
    for tag, child in children:
        if tag not in (Tag.USER_REQUISITE_NAME, Tag.USER_REQUISITE_VALUE) or tag in found:
            raise Refusal(ErrorCode.FN_BAD_PARAMETERS, f"tag 1084 holds an unexpected {tag}")
        found[tag] = child
    name = found.get(Tag.USER_REQUISITE_NAME)
    text = found.get(Tag.USER_REQUISITE_VALUE)
    if name is None or text is None:
        raise Refusal(ErrorCode.FN_BAD_PARAMETERS, "tag 1084 needs both 1085 and 1086")
    if not 1 <= len(name) <= MARK_NAME_MAX or not 1 <= len(text) <= MARK_VALUE_MAX:
        raise Refusal(
            ErrorCode.FN_BAD_PARAMETERS, f"tag 1084 name {len(name)} / value {len(text)} bytes"
        )
    return Mark(name=_text(name), value=_text(text))


def _decode_basis(value: bytes) -> date:
    """1174's value: it must hold 1178 (4-byte UnixTime, the day's midnight read as UTC)."""
    children = dict(parse_tlv(value, error=ErrorCode.FN_BAD_PARAMETERS))
    raw = children.get(Tag.CORRECTION_BASIS_DATE)
    if raw is None or len(raw) != 4:
        raise Refusal(ErrorCode.FN_BAD_PARAMETERS, "tag 1174 needs 1178, a 4-byte date")
    return datetime.fromtimestamp(int.from_bytes(raw, "little"), UTC).date()


def decode_writes(items: list[tuple[int, bytes]]) -> list[TagWrite]:
    """Check one FF0C's TLVs (lengths, the 1084 and 1174 structures); refuse with FN 0x09."""
    writes: list[TagWrite] = []
    for tag, value in items:
        limit = _STRING_LIMITS.get(tag)
        if limit is not None and not 1 <= len(value) <= limit:
            raise Refusal(ErrorCode.FN_BAD_PARAMETERS, f"tag {tag} length {len(value)}")
        if tag == Tag.CORRECTION_TYPE and (len(value) != 1 or value[0] not in _CORRECTION_TYPES):
            raise Refusal(ErrorCode.FN_BAD_PARAMETERS, f"tag 1173 value {value.hex()}")
        if tag == Tag.USER_REQUISITE:
            writes.append((tag, _decode_mark(value)))
        elif tag == Tag.CORRECTION_BASIS:
            writes.append((tag, _decode_basis(value)))
        else:
            writes.append((tag, value))
    return writes


def apply_writes(tags: DocumentTags, writes: list[TagWrite]) -> DocumentTags:
    """``tags`` with the checked writes applied in order; a repeated 1084 answers 0x33."""
    for tag, value in writes:
        if isinstance(value, Mark):
            if tags.mark is not None:
                raise Refusal(ErrorCode.BAD_PARAMETERS, "tag 1084 is already in the document")
            tags = replace(tags, mark=value)
        elif isinstance(value, date):
            tags = replace(tags, correction_date=value)
        elif tag == Tag.CORRECTION_TYPE:
            tags = replace(tags, correction_type=value[0])
        elif tag == Tag.CONTACT:
            tags = replace(tags, has_contact=True)  # the value itself is never kept
        elif tag == Tag.CASHIER:
            tags = replace(tags, cashier=_text(value))
        elif tag == Tag.CASHIER_INN:
            tags = replace(tags, cashier_inn=_text(value).strip())
        elif tag not in tags.other:
            tags = replace(tags, other=(*tags.other, tag))
    return tags
