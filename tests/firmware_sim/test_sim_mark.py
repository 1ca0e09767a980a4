"""Tag 1084, the agent's mark: FF0C takes it into the open document, the tape and store keep it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from simwire import SYSADMIN, Register, ff45_body, ff46_body, pw, tlv

from firmware_sim.cli import main
from firmware_sim.commands import Refusal
from firmware_sim.fn_tags import decode_writes
from firmware_sim.state import Mark, tape_entry
from firmware_sim.store import StateStore

REQUEST_ID = "0b7d6c1e-5f7a-4c39-9a7e-3f1d2c4b5a60"


def mark(name: bytes = b"CRM ID", value: bytes = REQUEST_ID.encode()) -> bytes:
    """A 1084 TLV with 1085 name and 1086 value."""
    return tlv(1084, tlv(1085, name) + tlv(1086, value))


@pytest.fixture
def reg() -> Register:
    """A register with a shift open and one line in an open receipt."""
    register = Register()
    register.open_shift()
    register.ok(0xFF46, ff46_body())
    return register


def test_ff0c_mark_goes_on_the_receipt(reg: Register) -> None:
    """FF0C 1084 in an open receipt: the FD carries the mark's name and value."""
    reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    reg.ok(0xFF45, ff45_body({1: 10000}))
    doc = reg.device.state.documents[-1]
    assert doc.tags.mark == Mark(name="CRM ID", value=REQUEST_ID)


def test_ff0c_mark_children_in_any_order_and_cp866(reg: Register) -> None:
    """1086 before 1085 is accepted; strings are cp866."""
    value = tlv(1086, "заказ 7".encode("cp866")) + tlv(1085, "Метка".encode("cp866"))
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1084, value))
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.tags.mark == Mark(name="Метка", value="заказ 7")


def test_ff0c_mark_at_the_limits_is_accepted(reg: Register) -> None:
    """A 64-character name and a value that fills FF0C's 250 bytes are accepted."""
    name = b"N" * 64
    value = b"v" * (250 - 12 - 64)
    reg.ok(0xFF0C, pw(SYSADMIN) + mark(name, value))
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.tags.mark == Mark(name="N" * 64, value="v" * 174)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(tlv(1084, tlv(1085, b"CRM ID")), id="no-1086"),
        pytest.param(tlv(1084, tlv(1086, b"r1")), id="no-1085"),
        pytest.param(tlv(1084, b""), id="empty"),
        pytest.param(mark(name=b"N" * 65), id="name-65"),
        pytest.param(mark(name=b""), id="empty-name"),
        pytest.param(mark(value=b""), id="empty-value"),
        pytest.param(tlv(1084, tlv(1085, b"a") + tlv(1086, b"b") + tlv(1087, b"c")), id="extra"),
        pytest.param(tlv(1084, tlv(1085, b"a") + tlv(1085, b"b") + tlv(1086, b"c")), id="twice"),
        pytest.param(tlv(1084, tlv(1085, b"a") + b"\x3e\x04\x09\x00r1"), id="truncated-child"),
        pytest.param(tlv(1021, b"Ivanova") + mark(value=b""), id="bad-mark-after-good-tag"),
    ],
)
def test_ff0c_malformed_mark_is_refused_fn_09(reg: Register, tags: bytes) -> None:
    """A 1084 without both children, over-long, empty or with strangers: FN 0x09, no change."""
    before = reg.device.state
    assert reg.err(0xFF0C, pw(SYSADMIN) + tags) == 0x09
    assert reg.device.state == before


def test_ff0c_mark_value_over_256_is_refused() -> None:
    """1086 over 256 characters is refused with FN 0x09 (it cannot fit one FF0C anyway)."""
    with pytest.raises(Refusal) as refused:
        decode_writes([(1084, tlv(1085, b"CRM ID") + tlv(1086, b"v" * 257))])
    assert refused.value.code == 0x09
    assert decode_writes([(1084, tlv(1085, b"CRM ID") + tlv(1086, b"v" * 256))])


def test_ff0c_mark_over_250_bytes_is_fn_10(reg: Register) -> None:
    """FF0C data over 250 bytes answers FN 0x10 before the mark is looked at."""
    assert reg.err(0xFF0C, pw(SYSADMIN) + mark(value=b"v" * 240)) == 0x10


def test_ff0c_second_mark_in_one_receipt_is_refused_0x33(reg: Register) -> None:
    """A repeated 1084 in the same document answers 0x33; the first mark stays."""
    reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    assert reg.err(0xFF0C, pw(SYSADMIN) + mark(value=b"other")) == 0x33
    reg.ok(0xFF45, ff45_body({1: 10000}))
    assert reg.device.state.documents[-1].tags.mark == Mark(name="CRM ID", value=REQUEST_ID)


def test_ff0c_mark_with_nothing_open_is_fn_02() -> None:
    """No receipt and no begun shift document: FN 0x02, as for the other tags."""
    reg = Register()
    reg.open_shift()
    assert reg.err(0xFF0C, pw(SYSADMIN) + mark()) == 0x02


def test_ff0c_mark_is_lost_with_a_cancelled_receipt(reg: Register) -> None:
    """The mark belongs to the open receipt: cancelled (0x88), the next receipt has none."""
    reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    reg.ok(0x88, pw())
    reg.ok(0xFF46, ff46_body())
    reg.ok(0xFF45, ff45_body({1: 10000}))
    assert reg.device.state.documents[-1].tags.mark is None


def test_ff0c_mark_on_a_shift_document() -> None:
    """FF41 then FF0C 1084: the open-shift report carries the mark too."""
    reg = Register()
    reg.ok(0xFF41, pw(SYSADMIN))
    reg.ok(0xFF0C, pw(SYSADMIN) + mark(value=b"shift-1"))
    reg.open_shift()
    assert reg.device.state.documents[-1].tags.mark == Mark(name="CRM ID", value="shift-1")


def test_tape_shows_mark_and_mark_name(reg: Register) -> None:
    """tape_entry: `mark` is the 1086 value, `mark_name` the 1085 name; absent without one."""
    reg.ok(0xFF45, ff45_body({1: 10000}))
    reg.ok(0xFF46, ff46_body())
    reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    reg.ok(0xFF45, ff45_body({1: 10000}))
    plain, marked = reg.device.state.documents[-2:]
    assert "mark" not in tape_entry(plain)
    assert "mark_name" not in tape_entry(plain)
    entry = tape_entry(marked)
    assert (entry["mark"], entry["mark_name"]) == (REQUEST_ID, "CRM ID")


def test_cli_tape_prints_the_mark(
    reg: Register, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """firmware-sim tape: the marked receipt's line has mark and mark_name."""
    reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    reg.ok(0xFF45, ff45_body({1: 10000}))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    assert main(["tape", "--state", str(tmp_path / "fn.db")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["mark"] == REQUEST_ID
    assert lines[-1]["mark_name"] == "CRM ID"


@pytest.mark.parametrize("with_mark", [True, False], ids=["marked", "unmarked"])
def test_store_round_trips_the_mark(reg: Register, tmp_path: Path, *, with_mark: bool) -> None:
    """The state file keeps a receipt's mark (or its absence) exactly."""
    if with_mark:
        reg.ok(0xFF0C, pw(SYSADMIN) + mark())
    reg.ok(0xFF45, ff45_body({1: 10000}))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    assert loaded.documents == reg.device.state.documents
    expected = Mark(name="CRM ID", value=REQUEST_ID) if with_mark else None
    assert loaded.documents[-1].tags.mark == expected


def test_store_reads_a_state_file_written_before_marks(reg: Register, tmp_path: Path) -> None:
    """Document rows without the `mark` key (older files) load with no mark."""
    reg.ok(0xFF45, ff45_body({1: 10000}))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    conn = sqlite3.connect(tmp_path / "fn.db")
    rows = conn.execute("SELECT fd, body FROM documents").fetchall()
    for fd, body in rows:
        raw = json.loads(body)
        del raw["tags"]["mark"]
        conn.execute("UPDATE documents SET body = ? WHERE fd = ?", (json.dumps(raw), fd))
    conn.commit()
    conn.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    assert [doc.tags.mark for doc in loaded.documents] == [None, None, None]
    assert loaded.documents == reg.device.state.documents
