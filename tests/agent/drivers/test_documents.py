"""The FN document decoder (FF3B's TLV -> FiscalDocument) against hand-built vectors."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.domain.receipt import VatRate
from agent.drivers.errors import MalformedPayload
from agent.drivers.interface import DocumentType, FiscalDocument
from agent.drivers.shtrih.commands import Command
from agent.drivers.shtrih.documents import decode_document

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "shtrih" / "documents.json").read_text("utf-8")
)
DOCUMENTS = VECTORS["documents"]
MALFORMED = VECTORS["malformed"]
ZONE = timezone(timedelta(hours=3), "MSK")
_RATES = {rate.code: rate for rate in VatRate}


def _raw(vector: dict[str, Any]) -> bytes:
    return b"".join(bytes.fromhex(tlv) for tlv in vector["tlvs"])


def _as_dict(document: FiscalDocument) -> dict[str, Any]:
    """The document in the vector's terms (rates and kinds by their contract names)."""
    items = None
    if document.items is not None:
        items = [
            {
                "name": line.name,
                "qty": line.qty,
                "price": line.price,
                "amount": line.amount,
                "vat": line.vat.code if isinstance(line.vat, VatRate) else line.vat,
            }
            for line in document.items
        ]
    payments = document.payments
    return {
        "fd": document.fd,
        "type": int(document.type),
        "fp": document.fp,
        "issued_at": document.issued_at.isoformat(),
        "kind": None if document.kind is None else document.kind.code,
        "total": document.total,
        "shift": document.shift,
        "number": document.number,
        "items": items,
        "payments": None
        if payments is None
        else {"cash": payments.cash, "card": payments.card, "prepaid": payments.prepaid},
        "mark": document.mark,
        "is_whole": document.is_whole,
    }


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in DOCUMENTS])
def test_decode_document_vector(vector: dict[str, Any]) -> None:
    """Each hand-built document decodes to exactly its expected FiscalDocument."""
    document = decode_document(vector["document_type"], _raw(vector), tz=ZONE)
    assert _as_dict(document) == vector["expected"]


def test_decode_document_keeps_enums_and_the_register_zone() -> None:
    """Known rates and types are enums, an unknown rate an int; the time is in the zone."""
    receipt = decode_document(3, _raw(DOCUMENTS[0]), tz=ZONE)
    assert receipt.type is DocumentType.RECEIPT
    assert receipt.items is not None
    assert [line.vat for line in receipt.items] == [VatRate.VAT22, VatRate.NONE]
    assert receipt.issued_at == datetime(2026, 11, 21, 12, 30, 5, tzinfo=ZONE)
    unknown = decode_document(3, _raw(DOCUMENTS[2]), tz=ZONE)
    assert unknown.items is not None
    assert type(unknown.items[0].vat) is int


def test_decode_document_cash_is_net_of_change() -> None:
    """Cash is what the drawer kept (1031): the payments add up to the total."""
    receipt = decode_document(3, _raw(DOCUMENTS[0]), tz=ZONE)
    assert receipt.payments is not None
    assert receipt.payments.total == receipt.total == 32500


def test_decode_document_without_zone_uses_the_host_zone() -> None:
    """tz None reads 1012 in the host's local zone, as every other register time."""
    document = decode_document(2, _raw(DOCUMENTS[3]), tz=None)
    assert document.issued_at == datetime(2026, 11, 21, 9, 0).astimezone()


def test_decode_document_unknown_form_code_kept_raw() -> None:
    """A form the agent has no name for (a BSO correction, 41) keeps its number as it is."""
    document = decode_document(41, _raw(DOCUMENTS[1]), tz=ZONE)
    assert document.type == 41
    assert type(document.type) is int
    assert document.items is not None


def test_decode_document_correction_receipt_is_named() -> None:
    """A correction receipt (form 31) is named and read like a receipt; no 1173: no basis."""
    document = decode_document(31, _raw(DOCUMENTS[1]), tz=ZONE)
    assert document.type is DocumentType.CORRECTION
    assert document.items is not None
    assert document.correction is None


def test_decode_document_first_of_a_repeated_tag_counts() -> None:
    """A tag given twice: the first value is the one read; the same mark twice is one mark."""
    raw = _raw(DOCUMENTS[0])
    mark = bytes.fromhex(DOCUMENTS[0]["tlvs"][-1])
    again = bytes.fromhex("12 04 04 00 63 00 00 00")  # 1042 = 99 after 1042 = 3
    document = decode_document(3, raw + again + mark, tz=ZONE)
    assert (document.number, document.mark) == (3, "crm-1")


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in MALFORMED])
def test_decode_document_rejects_malformed(vector: dict[str, Any]) -> None:
    """A cut, missized or incomplete document is MalformedPayload naming what is wrong."""
    with pytest.raises(MalformedPayload, match=vector["detail"]) as caught:
        decode_document(vector["document_type"], bytes.fromhex(vector["bytes"]), tz=ZONE)
    assert caught.value.command == Command.READ_DOCUMENT_BLOCK


@pytest.mark.parametrize("size", range(len(_raw(DOCUMENTS[0]))))
def test_decode_document_every_strict_prefix_is_refused(size: int) -> None:
    """Any receipt cut short is MalformedPayload (a cut TLV, or 1077/1012 not reached)."""
    raw = _raw(DOCUMENTS[0])[:size]
    ends_on_a_tag = size in {
        sum(len(bytes.fromhex(t)) for t in DOCUMENTS[0]["tlvs"][:n])
        for n in range(len(DOCUMENTS[0]["tlvs"]))
    }
    try:
        document = decode_document(3, raw, tz=ZONE)
    except MalformedPayload:
        return
    assert ends_on_a_tag, "a cut inside a tag must never decode"
    assert document.fd == 427  # a prefix ending between tags is a shorter, valid document


@given(document_type=st.sampled_from([1, 2, 3, 5, 31]), data=st.binary(max_size=200))
def test_decode_document_never_crashes(document_type: int, data: bytes) -> None:
    """Random bytes decode or raise MalformedPayload, never IndexError or anything else."""
    with contextlib.suppress(MalformedPayload):
        decode_document(document_type, data, tz=ZONE)


@given(
    document_type=st.sampled_from([2, 3]),
    tags=st.lists(
        st.tuples(
            st.sampled_from([1012, 1020, 1023, 1031, 1038, 1040, 1059, 1077, 1084, 1199, 1]),
            st.binary(max_size=12),
        ),
        max_size=12,
    ),
)
def test_decode_document_well_framed_garbage_never_crashes(
    document_type: int, tags: list[tuple[int, bytes]]
) -> None:
    """Well-framed tags with values of any size decode or raise MalformedPayload."""
    raw = b"".join(
        tag.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value for tag, value in tags
    )
    with contextlib.suppress(MalformedPayload):
        decode_document(document_type, raw, tz=ZONE)
