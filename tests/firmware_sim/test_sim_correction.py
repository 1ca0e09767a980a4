"""Correction receipts on the simulator: FF35, the FN's 1173/1174/1178, FD type 31, the Z."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from simwire import SYSADMIN, Register, ff45_body, ff46_body, pw, tlv

from firmware_sim.fn_documents import document_tlvs
from firmware_sim.state import DocType, tape_entry
from firmware_sim.state_json import document_from_json, document_to_json

PAID_ON = date(2026, 11, 20)
BASIS = tlv(
    1174, tlv(1178, int(datetime(2026, 11, 20, tzinfo=UTC).timestamp()).to_bytes(4, "little"))
)
CORRECTION_TAGS = tlv(1173, b"\x00") + BASIS
MARK = tlv(1084, tlv(1085, b"CRM ID") + tlv(1086, b"late-1"))


@pytest.fixture
def reg() -> Register:
    register = Register()
    register.open_shift()
    return register


def _correction(reg: Register, *, tags: bytes = CORRECTION_TAGS + MARK) -> bytes:
    reg.ok(0xFF35, pw(SYSADMIN))
    reg.ok(0xFF46, ff46_body(price=15000))
    reg.ok(0xFF0C, pw(SYSADMIN) + tags)
    return reg.ok(0xFF45, ff45_body({2: 15000}))


def test_ff35_begins_a_correction_that_closes_as_fd_type_31(reg: Register) -> None:
    """FF35, FF46, FF0C 1173/1174, FF45: a correction on the tape with its tags and mark."""
    _correction(reg)
    doc = reg.device.state.documents[-1]
    assert doc.type is DocType.CORRECTION
    assert (doc.tags.correction_type, doc.tags.correction_date) == (0, PAID_ON)
    assert doc.tags.mark is not None
    assert doc.tags.mark.value == "late-1"
    entry = tape_entry(doc)
    assert entry["type"] == "correction"
    assert entry["settled_on"] == "2026-11-20"
    assert entry["tags"]["1173"] == 0
    assert entry["tags"]["1174"] == {"1178": "2026-11-20"}
    assert entry["payments"]["card"] == "150.00"
    assert document_from_json(document_to_json(doc)) == doc, "kept in the state file"


def test_ff0a_and_ff3a_ff3b_answer_for_a_correction(reg: Register) -> None:
    """FF0A gives type 31 with sign and total; FF3A/FF3B read back 1173 and 1174 > 1178."""
    _correction(reg)
    fd = reg.device.state.last_fd
    found = reg.ok(0xFF0A, pw(SYSADMIN) + fd.to_bytes(4, "little"))
    assert found[0] == 31
    assert found[15] == 1  # приход, after type, ticket, date-time(5), FD(4), FP(4)
    assert int.from_bytes(found[16:21], "little") == 15000
    begun = reg.ok(0xFF3A, pw(SYSADMIN) + fd.to_bytes(4, "little"))
    assert int.from_bytes(begun[:2], "little") == 31
    read = b""
    while True:
        error, data = reg.call(0xFF3B, pw(SYSADMIN))
        if error:
            break
        read += data
    assert read == b"".join(
        document_tlvs(reg.device.state.documents[-1], fn_serial=reg.device.config.fn_serial)
    )
    assert CORRECTION_TAGS in read
    assert MARK in read


@pytest.mark.parametrize(
    "tags",
    [pytest.param(MARK, id="neither"), pytest.param(tlv(1173, b"\x00") + MARK, id="no-1174")],
)
def test_a_correction_without_1173_or_1178_is_refused(reg: Register, tags: bytes) -> None:
    """FF45 of a correction without its basis: FN 0x09, no document, the receipt stays open."""
    before = reg.device.state.last_fd
    reg.ok(0xFF35, pw(SYSADMIN))
    reg.ok(0xFF46, ff46_body(price=15000))
    reg.ok(0xFF0C, pw(SYSADMIN) + tags)
    assert reg.err(0xFF45, ff45_body({2: 15000})) == 0x09
    assert reg.device.state.last_fd == before
    reg.ok(0x88, pw(SYSADMIN))  # cancelled like a receipt
    assert reg.device.state.open_receipt is None


@pytest.mark.parametrize("value", [b"\x02", b"\x00\x00", b""])
def test_a_bad_1173_is_refused(reg: Register, value: bytes) -> None:
    reg.ok(0xFF35, pw(SYSADMIN))
    reg.ok(0xFF46, ff46_body(price=15000))
    assert reg.err(0xFF0C, pw(SYSADMIN) + tlv(1173, value)) == 0x09


def test_ff35_needs_an_open_shift_and_no_receipt(reg: Register) -> None:
    reg.ok(0xFF46, ff46_body())
    assert reg.err(0xFF35, pw(SYSADMIN)) == 0x4A  # a receipt is open
    fresh = Register()
    assert fresh.err(0xFF35, pw(SYSADMIN)) == 0x3D  # shift closed


def test_the_z_counts_corrections_apart_from_receipts(reg: Register) -> None:
    """A receipt and a correction: sales count the receipt, tag 1133 the correction; 241 both."""
    reg.ok(0xFF46, ff46_body(price=10000))
    reg.ok(0xFF45, ff45_body({1: 10000}))
    _correction(reg, tags=CORRECTION_TAGS)
    assert reg.money(241) == 10000  # the correction was paid by card
    reg.ok(0x41, pw(SYSADMIN))
    counters = reg.device.state.documents[-1].counters
    assert counters is not None
    assert (counters.sales.count, counters.sales.cash, counters.sales.card) == (1, 10000, 0)
    assert (counters.corrections.count, counters.corrections.card) == (1, 15000)
    assert counters.correction_refunds.count == 0
    z = tape_entry(reg.device.state.documents[-1])["counters"]["corrections"]
    assert z["count"] == 1
    assert z["sales"]["card"] == "150.00"
