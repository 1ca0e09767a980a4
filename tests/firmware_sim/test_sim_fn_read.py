"""FF3A/FF3B: every FD reads back as TLV, byte for byte as docs/fn-documents.md lays it out.

The expected bytes are written out by hand from the spec (tag u16 LE, length u16 LE, value;
cp866 strings, shortest VLN, FVLN, UnixTime of the wall clock read as UTC, FP as 00 00 +
big-endian), never produced by firmware_sim.fn_documents.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from simwire import (
    CASHIER,
    SYSADMIN,
    Register,
    close_body,
    config,
    ff45_body,
    ff46_body,
    pw,
    sale_body,
    tlv,
    u,
)

from firmware_sim.device import Device
from firmware_sim.store import StateStore

H = bytes.fromhex
FN_SERIAL_TLV = H("11 04 10 00") + b"9999078900012345"
AT_12_00_00 = H(
    "f4 03 04 00 c0 87 01 6b"
)  # 1012: 2026-11-21 12:00:00 (MSK wall clock) = 1795262400
AT_12_01_30 = H("f4 03 04 00 1a 88 01 6b")  # 1012: 12:01:30 = 1795262490
SHIFT_1 = H("0e 04 04 00 01 00 00 00")  # 1038 = 1
NAME = H("88 a3 e0 ae a2 ae a5 20 a2 e0 a5 ac ef")  # "Игровое время" in cp866
IVANOVA = H("88 a2 a0 ad ae a2 a0")  # "Иванова" in cp866
MARK_TLV = (  # 1084 { 1085 "CRM ID", 1086 "req-42" }
    H("3c 04 14 00") + H("3d 04 06 00") + b"CRM ID" + H("3e 04 06 00") + b"req-42"
)


def fp_tlv(fp: int) -> bytes:
    """1077: two zero bytes, then the fiscal sign big-endian."""
    return H("35 04 06 00 00 00") + fp.to_bytes(4, "big")


def read_back(reg: Register, fd: int) -> tuple[bytes, list[bytes]]:
    """FF3A(fd) data, then the data of every FF3B until FN 0x08."""
    head = reg.ok(0xFF3A, pw(SYSADMIN) + u(fd, 4))
    parts: list[bytes] = []
    while True:
        error, data = reg.call(0xFF3B, pw(SYSADMIN))
        if error:
            assert error == 0x08
            return head, parts
        parts.append(data)
        assert len(parts) < 100


def marked_receipt(reg: Register) -> int:
    """Shift, FF46 1.5 x 100.00, FF0C cashier + mark, FF45 200.00 cash (УСН доход); its FP."""
    reg.open_shift()
    reg.ok(0xFF46, ff46_body(qty_micro=1_500_000, price=10000, tax_index=4, method=4, subject=4))
    mark = tlv(1084, tlv(1085, b"CRM ID") + tlv(1086, b"req-42"))
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1021, "Иванова".encode("cp866")) + mark)
    reg.tick(90)
    data = reg.ok(0xFF45, ff45_body({1: 20000}, tax_system=0x02))
    assert int.from_bytes(data[5:9], "little") == 3
    return int.from_bytes(data[9:13], "little")


def test_ff3a_ff3b_receipt_reads_back_every_tag_in_order() -> None:
    """A receipt: FF3A answers type 3 and the length; FF3B hands out one TLV each, then 0x08."""
    reg = Register()
    fp = marked_receipt(reg)
    item = (
        H("23 04 32 00")  # 1059, 50 bytes of children
        + H("06 04 0d 00")
        + NAME  # 1030
        + H("37 04 02 00 10 27")  # 1079 = 10000
        + H("ff 03 02 00 01 0f")  # 1023 = 1.5: 1 place, digits 15
        + H("13 04 02 00 98 3a")  # 1043 = 15000
        + H("af 04 01 00 06")  # 1199 = 6 (none)
        + H("be 04 01 00 04")  # 1214 = 4
        + H("bc 04 01 00 04")  # 1212 = 4
    )
    expected = [
        AT_12_01_30,
        H("10 04 04 00 03 00 00 00"),  # 1040 = 3
        FN_SERIAL_TLV,
        fp_tlv(fp),
        SHIFT_1,
        H("12 04 04 00 01 00 00 00"),  # 1042 = 1
        H("1e 04 01 00 01"),  # 1054 = 1 sale
        H("1f 04 01 00 02"),  # 1055 = 2
        H("fc 03 02 00 98 3a"),  # 1020 = 15000
        H("07 04 02 00 98 3a"),  # 1031 = 15000 kept (20000 - 5000 change)
        H("39 04 01 00 00"),  # 1081 = 0
        H("bf 04 01 00 00"),  # 1215 = 0
        H("51 04 02 00 98 3a"),  # 1105 = 15000 settled without VAT
        item,
        H("fd 03 07 00") + IVANOVA,  # 1021
        MARK_TLV,
    ]
    total = sum(len(part) for part in expected)
    assert reg.send(H("ff 3a") + pw(SYSADMIN) + u(3, 4)) == H("ff 3a 00 03 00") + u(total, 2)
    for part in expected:
        assert reg.send(H("ff 3b") + pw(SYSADMIN)) == H("ff 3b 00") + part
    assert reg.send(H("ff 3b") + pw(SYSADMIN)) == H("ff 3b 08")


def test_ff3a_classic_receipt_with_credit_and_no_tax_system() -> None:
    """0x80/0x85 receipt: no 1055, 1199 = 6 and 1105 without a tax group, qty 1 as 00 01."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x80, sale_body(1000, 25600, taxes=(0, 0, 0, 0), name="Cola"))
    reg.ok(0x85, close_body(0, 25600))
    head, parts = read_back(reg, 3)
    assert head == H("03 00") + u(sum(map(len, parts)), 2)
    assert parts[5:] == [
        H("12 04 04 00 01 00 00 00"),
        H("1e 04 01 00 01"),
        H("fc 03 02 00 00 64"),  # 1020 = 25600
        H("07 04 01 00 00"),  # 1031 = 0
        H("39 04 02 00 00 64"),  # 1081 = 25600 (payment type 2)
        H("bf 04 01 00 00"),
        H("51 04 02 00 00 64"),  # 1105 = 25600: a line with no tax group counts as "none"
        H("23 04 1f 00")
        + H("06 04 04 00")
        + b"Cola"
        + H("37 04 02 00 00 64")
        + H("ff 03 02 00 00 01")  # 1023 = 1: 0 places, digits 1
        + H("13 04 02 00 00 64")
        + H("af 04 01 00 06"),
    ]


def test_ff3a_credit_and_provision_appear_only_when_used() -> None:
    """1216 and 1217 follow 1215 when payment types 15/16 carry money; refund sign 2."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF46, ff46_body(op_type=2, price=300, tax_index=1))
    reg.ok(0xFF45, ff45_body({14: 100, 15: 120, 16: 80}))
    _, parts = read_back(reg, 3)
    assert parts[6] == H("1e 04 01 00 02")
    assert parts[9:14] == [
        H("07 04 01 00 00"),
        H("39 04 01 00 00"),
        H("bf 04 01 00 64"),  # 1215 = 100
        H("c0 04 01 00 78"),  # 1216 = 120
        H("c1 04 01 00 50"),  # 1217 = 80
    ]
    assert parts[14] == H("4e 04 01 00 36")  # 1102 = 54: 3.00 at 22 % holds 0.54
    assert parts[15].endswith(H("af 04 01 00 0b be 04 01 00 04 bc 04 01 00 04"))  # vat22 = 11


def test_ff3a_shift_documents_and_registration() -> None:
    """Open shift (type 2) with 1021/1203 from FF41+FF0C; registration (type 1) has 4 tags."""
    reg = Register()
    reg.ok(0xFF41, pw(SYSADMIN))
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1021, b"Petrova") + tlv(1203, b"500100732259"))
    reg.open_shift()
    fp_open = int.from_bytes(reg.ok(0xFF0A, pw(SYSADMIN) + u(2, 4))[11:15], "little")
    fp_reg = int.from_bytes(reg.ok(0xFF0A, pw(SYSADMIN) + u(1, 4))[11:15], "little")
    head, parts = read_back(reg, 2)
    expected = [
        AT_12_00_00,
        H("10 04 04 00 02 00 00 00"),
        FN_SERIAL_TLV,
        fp_tlv(fp_open),
        SHIFT_1,
        H("fd 03 07 00") + b"Petrova",
        H("b3 04 0c 00") + b"500100732259",
    ]
    assert parts == expected
    assert head == H("02 00") + u(sum(map(len, expected)), 2)
    head, parts = read_back(reg, 1)
    assert parts == [AT_12_00_00, H("10 04 04 00 01 00 00 00"), FN_SERIAL_TLV, fp_tlv(fp_reg)]
    assert head == H("01 00 2e 00")  # 8 + 8 + 20 + 10 = 46 bytes


def test_ff3a_close_shift_is_type_5() -> None:
    """The Z report's FD reads back as type 5 with the shift number."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x41, pw(SYSADMIN))
    head, parts = read_back(reg, 3)
    assert head[:2] == H("05 00")
    assert parts[1] == H("10 04 04 00 03 00 00 00")
    assert parts[4] == SHIFT_1
    assert len(parts) == 5


def test_ff3a_same_fd_reads_the_same_bytes_after_a_restart(tmp_path: Path) -> None:
    """Read twice, and again from a register restored from its state file: identical bytes."""
    reg = Register()
    marked_receipt(reg)
    first = read_back(reg, 3)
    assert read_back(reg, 3) == first
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    again = Register(device=Device(config=config(), state=loaded), now=reg.now)
    assert read_back(again, 3) == first


def test_ff3a_long_item_is_split_over_ff3b_answers() -> None:
    """A TLV over 252 bytes (a v1 frame's room) comes in consecutive FF3B answers, in order."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x80, sale_body(name="Z" * 235, width=235))
    reg.ok(0x85, close_body(10000))
    head, parts = read_back(reg, 3)
    item_at = next(i for i, part in enumerate(parts) if part[:2] == H("23 04"))
    assert len(parts[item_at]) == 252
    whole = parts[item_at] + parts[item_at + 1]
    assert whole[:4] == H("23 04") + u(len(whole) - 4, 2)
    assert whole[4:8] == H("06 04 eb 00")  # 1030, 235 bytes
    assert int.from_bytes(head[2:4], "little") == sum(map(len, parts))


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        pytest.param(H("ff 3a") + pw(SYSADMIN) + u(9, 4), H("ff 3a 08"), id="no-such-fd"),
        pytest.param(H("ff 3a") + pw(SYSADMIN) + u(0, 4), H("ff 3a 08"), id="fd-0"),
        pytest.param(H("ff 3a") + pw(CASHIER) + u(1, 4), H("ff 3a 4f"), id="not-sysadmin"),
        pytest.param(H("ff 3a") + pw(SYSADMIN) + u(1, 2), H("ff 3a 09"), id="short-body"),
        pytest.param(H("ff 3b") + pw(SYSADMIN), H("ff 3b 08"), id="ff3b-without-ff3a"),
        pytest.param(H("ff 3b") + pw(SYSADMIN) + b"\x00", H("ff 3b 09"), id="ff3b-long-body"),
    ],
)
def test_ff3a_ff3b_refusals(payload: bytes, answer: bytes) -> None:
    """Unknown FD and FF3B with nothing chosen: FN 0x08; password 0x4F; bad layout FN 0x09."""
    reg = Register()
    reg.open_shift()
    assert reg.send(payload) == answer


def test_ff3a_failed_request_keeps_the_read_in_progress() -> None:
    """A refused FF3A leaves the chosen document and its position as they were."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF3A, pw(SYSADMIN) + u(2, 4))
    reg.ok(0xFF3B, pw(SYSADMIN))
    assert reg.err(0xFF3A, pw(SYSADMIN) + u(7, 4)) == 0x08
    assert reg.ok(0xFF3B, pw(SYSADMIN)) == H("10 04 04 00 02 00 00 00")


def test_ff3b_after_power_cut_has_nothing_to_read() -> None:
    """A power cut forgets the read in progress: FF3B answers FN 0x08."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF3A, pw(SYSADMIN) + u(2, 4))
    reg.device.power_cut()
    assert reg.err(0xFF3B, pw(SYSADMIN)) == 0x08


def test_ff3a_refused_while_a_print_waits_for_paper() -> None:
    """Paper ran out mid-print (submode 2/3): FF3A and FF3B answer 0x73 until 0xB0."""
    reg = Register(device=Device(config=config(print_time_s=2.0)))
    reg.ok(0xFF3A, pw(SYSADMIN) + u(1, 4))
    reg.open_shift()
    reg.device.set_paper(False)
    assert reg.err(0xFF3A, pw(SYSADMIN) + u(2, 4)) == 0x73
    assert reg.err(0xFF3B, pw(SYSADMIN)) == 0x73
    reg.device.set_paper(True)
    reg.ok(0xB0, pw())
    assert reg.ok(0xFF3B, pw(SYSADMIN)) == AT_12_00_00


def test_ff3a_reads_a_document_while_a_receipt_is_open() -> None:
    """Reading the tape does not disturb the open receipt, which then closes normally."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF46, ff46_body())
    _, parts = read_back(reg, 2)
    assert parts[1] == H("10 04 04 00 02 00 00 00")
    reg.ok(0xFF45, ff45_body({1: 10000}))
    assert reg.last_fd() == 3
    assert reg.device.state.open_receipt is None
