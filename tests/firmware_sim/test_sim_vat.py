"""VAT on the simulated register: the rule, tax modes 0 and 1, registers, TLV, tape, state.

Expected kopecks are worked out by hand in the comments from docs/simulator.md ("VAT"):
VAT = T*p/(10000+p) half up, once per receipt per tax row, p in hundredths of a percent.
TLV bytes are hand-built (tag u16 LE, length u16 LE, shortest VLN).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from simwire import CASHIER, SYSADMIN, Register, close_body, ff45_body, ff46_body, pw, sale_body, u

from firmware_sim.state import DocType, FnDocument, tape_entry
from firmware_sim.store import StateStore

H = bytes.fromhex
# Default tax table rows (docs/simulator.md): 1 vat22, 2 vat10, 3 vat0, 4 none, 5 vat22_122,
# 6 vat10_110, 7 vat5, 8 vat7, 9 vat5_105, 10 vat7_107, 11 vat20, 12 vat20_120.
VAT22, VAT10, VAT0, NONE, VAT22_122, VAT10_110, VAT5, VAT20, VAT20_120 = 1, 2, 3, 4, 5, 6, 7, 11, 12


def receipt(
    reg: Register, lines: list[tuple[int, int]], *, op_type: int = 1, pay: int = 2
) -> FnDocument:
    """FF46 lines of (price, tax row) at quantity 1, closed with FF45 paid by card (type 2)."""
    for price, row in lines:
        reg.ok(0xFF46, ff46_body(op_type=op_type, price=price, tax_index=row))
    total = sum(price for price, _ in lines)
    reg.ok(0xFF45, ff45_body({pay: total}))
    return reg.device.state.documents[-1]


def vat_of(doc: FnDocument) -> dict[str, str]:
    """The receipt's "vat" on the tape."""
    return dict(tape_entry(doc)["vat"])


def shift() -> Register:
    """A register with a shift open."""
    reg = Register()
    reg.open_shift()
    return reg


def tlv_parts(reg: Register, fd: int) -> list[bytes]:
    """Every FF3B answer for ``fd`` until FN 0x08."""
    reg.ok(0xFF3A, pw(SYSADMIN) + u(fd, 4))
    parts: list[bytes] = []
    while (answer := reg.call(0xFF3B, pw(SYSADMIN)))[0] == 0:
        parts.append(answer[1])
    assert answer[0] == 0x08
    return parts


@pytest.mark.parametrize(
    ("price", "row", "code", "vat"),
    [
        pytest.param(15000, VAT22, "vat22", "27.05", id="150.00@22%"),  # 33000000/12200=2705.4
        pytest.param(1, VAT22, "vat22", "0.00", id="0.01@22%"),  # 2200/12200 = 0.18
        pytest.param(10000, VAT10_110, "vat10_110", "9.09", id="100.00@10/110"),  # 909.09
        pytest.param(10000, VAT10, "vat10", "9.09", id="100.00@10%"),  # prices include VAT
        pytest.param(10000, VAT22_122, "vat22_122", "18.03", id="100.00@22/122"),  # 1803.3
        pytest.param(10000, VAT5, "vat5", "4.76", id="100.00@5%"),  # 5000000/10500 = 476.2
        pytest.param(3, VAT20, "vat20", "0.01", id="0.03@20%-half-up"),  # 6000/12000 = 0.5
        pytest.param(9, VAT20, "vat20", "0.02", id="0.09@20%-half-up"),  # 1.5
        pytest.param(10000, VAT0, "vat0", "0.00", id="vat0"),
        pytest.param(10000, NONE, "none", "0.00", id="none"),
    ],
)
def test_vat_rule_on_chosen_amounts(price: int, row: int, code: str, vat: str) -> None:
    """Tax mode 0: T*p/(10000+p) rounded half up to the kopeck."""
    reg = shift()
    assert vat_of(receipt(reg, [(price, row)])) == {code: vat}


def test_vat_lines_of_one_rate_summed_before_rounding() -> None:
    """3 x 0.10 at 22 %: one computation on 0.30 gives 0.05 (per line it would be 3 x 0.02)."""
    reg = shift()
    doc = receipt(reg, [(10, VAT22), (10, VAT22), (10, VAT22)])
    assert vat_of(doc) == {"vat22": "0.05"}  # 30*2200/12200 = 5.41
    assert reg.money(225) == 5


def test_vat_rows_are_computed_apart_and_listed_in_row_order() -> None:
    """Each row its own computation; the tape lists the rows present, in table order."""
    reg = shift()
    doc = receipt(reg, [(10000, VAT10_110), (15000, VAT22), (2560, NONE), (10, VAT22)])
    assert list(vat_of(doc).items()) == [
        ("vat22", "27.07"),  # 15010*2200/12200 = 2706.72 -> 2707
        ("none", "0.00"),
        ("vat10_110", "9.09"),
    ]


def test_vat_fractional_quantity_and_classic_lines() -> None:
    """The turnover is the line amounts: 1.5 x 33.33 = 50.00 (49.995 up); 0x80 lines count too."""
    reg = shift()
    reg.ok(0xFF46, ff46_body(qty_micro=1_500_000, price=3333, tax_index=VAT22))
    reg.ok(0x80, sale_body(2000, 5000, taxes=(1, 0, 0, 0), password=CASHIER))
    reg.ok(0xFF45, ff45_body({1: 15000}))
    doc = reg.device.state.documents[-1]
    assert doc.total == 15000
    assert vat_of(doc) == {"vat22": "27.05"}


def test_vat_table6_rate_drives_the_computation() -> None:
    """Writing table 6 row 1 rate 2000 makes 150.00 at row 1 carry 25.00; the code stays."""
    reg = shift()
    reg.ok(0x1E, pw(SYSADMIN) + H("06 01 00 01 d0 07"))
    doc = receipt(reg, [(15000, VAT22)])
    assert vat_of(doc) == {"vat22": "25.00"}  # 15000*2000/12000
    assert doc.vat[0].rate == 2000


def test_vat_mode_0_ignores_the_hosts_sums() -> None:
    """Tax mode 0: an FF46 tax sum is ignored; the register computes, and writes no 1200."""
    reg = shift()
    reg.ok(0xFF46, ff46_body(price=15000, tax_index=VAT22, tax_sum=1))
    reg.ok(0xFF45, ff45_body({1: 15000}))
    doc = reg.device.state.documents[-1]
    assert vat_of(doc) == {"vat22": "27.05"}
    assert doc.items[0].tax_sum is None
    assert all(b"\xb0\x04" not in part for part in tlv_parts(reg, doc.fd))


@pytest.mark.parametrize("mode", [2, 3])
def test_vat_modes_2_and_3_compute_like_0(mode: int) -> None:
    """Tax modes 2 and 3 are treated as 0: computed, the host's sums ignored."""
    reg = shift()
    reg.device.set_tax_mode(mode)
    reg.ok(0xFF46, ff46_body(price=15000, tax_index=VAT22, tax_sum=1))
    reg.ok(0xFF45, ff45_body({1: 15000}))
    assert vat_of(reg.device.state.documents[-1]) == {"vat22": "27.05"}


def test_vat_mode_1_signs_the_hosts_sums_as_sent() -> None:
    """Tax mode 1: VAT per row = the lines' FF46 sums (not given = 0); 1200 on given lines."""
    reg = shift()
    reg.ok(0x1E, pw(SYSADMIN) + H("01 01 00 0e 01"))
    reg.ok(0xFF46, ff46_body(price=15000, tax_index=VAT22, tax_sum=2700, name="Кофе"))
    reg.ok(0xFF46, ff46_body(price=100, tax_index=VAT22, tax_sum=1))
    reg.ok(0xFF46, ff46_body(price=10000, tax_index=VAT10_110))  # tax sum not given
    reg.ok(0x80, sale_body(1000, 500, taxes=(2, 0, 0, 0)))  # classic: no tax sum at all
    reg.ok(0xFF45, ff45_body({1: 25600}))
    doc = reg.device.state.documents[-1]
    assert vat_of(doc) == {"vat22": "27.01", "vat10": "0.00", "vat10_110": "0.00"}
    assert [row.rate for row in doc.vat] == [None, None, None]
    assert (reg.money(225), reg.money(229), reg.money(4404)) == (2701, 0, 0)
    assert (reg.money(209), reg.money(213), reg.money(4436)) == (15100, 500, 10000)
    parts = tlv_parts(reg, doc.fd)
    assert H("4e 04 02 00 8d 0a") in parts  # 1102 = 2701
    assert H("4f 04 01 00 00") in parts  # 1103 = 0 (10 %, row present)
    assert H("53 04 01 00 00") in parts  # 1107 = 0
    coffee = (
        H("23 04 2f 00")  # 1059, 47 bytes
        + H("06 04 04 00 8a ae e4 a5")  # 1030 "Кофе" cp866
        + H("37 04 02 00 98 3a")  # 1079 = 15000
        + H("ff 03 02 00 00 01")  # 1023 = 1
        + H("13 04 02 00 98 3a")  # 1043 = 15000
        + H("af 04 01 00 0b")  # 1199 = 11 (vat22)
        + H("b0 04 02 00 8c 0a")  # 1200 = 2700
        + H("be 04 01 00 04")  # 1214
        + H("bc 04 01 00 04")  # 1212
    )
    items = [part for part in parts if part[:2] == H("23 04")]
    assert items[0] == coffee
    assert H("b0 04 01 00 01") in items[1]  # 1200 = 1
    assert all(H("b0 04") not in item for item in items[2:])  # not given: no 1200


def test_vat_mode_at_the_close_decides() -> None:
    """The tax mode in force when the receipt closes applies to all of its lines."""
    reg = shift()
    reg.ok(0xFF46, ff46_body(price=15000, tax_index=VAT22, tax_sum=100))
    reg.device.set_tax_mode(1)
    reg.ok(0xFF45, ff45_body({1: 15000}))
    assert vat_of(reg.device.state.documents[-1]) == {"vat22": "1.00"}


def test_vat_registers_after_sales_and_refunds_and_zeroed_by_z() -> None:
    """Turnover and VAT by row and operation in 209…240 and 4400…4463; the Z zeroes them."""
    reg = shift()
    reg.ok(0x50, pw() + u(100000, 5))
    receipt(reg, [(15000, VAT22), (10000, VAT10_110), (5000, VAT5)], pay=1)
    receipt(reg, [(3000, VAT22), (2000, VAT10_110)], op_type=2, pay=1)
    expected = {
        209: 15000,  # row 1 turnover, sale
        225: 2705,  # row 1 VAT, sale
        211: 3000,  # row 1 turnover, sale return
        227: 541,  # 3000*2200/12200 = 540.98
        4436: 10000,  # row 6 turnover, sale: 4432 + 4*(6-5) + 0
        4404: 909,  # row 6 VAT, sale: 4400 + 4 + 0
        4438: 2000,  # row 6 turnover, sale return
        4406: 182,  # 2000*1000/11000 = 181.8
        4440: 5000,  # row 7 turnover, sale: 4432 + 8
        4408: 238,  # 5000*500/10500 = 238.1
    }
    for register, value in expected.items():
        assert reg.money(register) == value, register
    assert reg.send(H("1a 01 00 00 00 34 11")) == H("1a 00 01 8d 03 00 00 00 00")  # 4404
    assert reg.money(4463) == 0
    assert reg.err(0x1A, pw() + u(4464, 2)) == 0x33
    reg.ok(0x41, pw(SYSADMIN))
    for register in expected:
        assert reg.money(register) == 0, register
    counters = tape_entry(reg.device.state.documents[-1])["counters"]
    assert counters["vat"] == {
        "sales": {"vat22": "27.05", "vat10_110": "9.09", "vat5": "2.38"},
        "refunds": {"vat22": "5.41", "vat10_110": "1.82"},
    }


def test_vat_receipt_tlv_tags_1102_to_1107() -> None:
    """After the payments: 1102 (22 %+20 %), 1103, 1104 and 1105 turnovers, 1106, 1107."""
    reg = shift()
    lines = [
        (15000, VAT22),  # 2705
        (6000, VAT20),  # 1000
        (11000, VAT10),  # 1000
        (4000, VAT0),  # turnover 4000
        (2560, NONE),  # turnover 2560
        (12200, VAT22_122),  # 2200
        (1200, VAT20_120),  # 200
        (10000, VAT10_110),  # 909
        (2100, VAT5),  # 100, no receipt-level tag
    ]
    doc = receipt(reg, lines)
    parts = tlv_parts(reg, doc.fd)
    at = parts.index(H("bf 04 01 00 00"))  # 1215, the last payment tag here
    assert parts[at + 1 : at + 7] == [
        H("4e 04 02 00 79 0e"),  # 1102 = 3705
        H("4f 04 02 00 e8 03"),  # 1103 = 1000
        H("50 04 02 00 a0 0f"),  # 1104 = 4000
        H("51 04 02 00 00 0a"),  # 1105 = 2560
        H("52 04 02 00 60 09"),  # 1106 = 2400
        H("53 04 02 00 8d 03"),  # 1107 = 909
    ]
    assert parts[at + 7][:2] == H("23 04")  # then the items
    assert vat_of(doc)["vat5"] == "1.00"


def test_vat_receipt_tlv_only_the_rows_present() -> None:
    """A receipt at 10/110 only carries 1107 and no other VAT tag."""
    reg = shift()
    doc = receipt(reg, [(10000, VAT10_110)])
    tags = {int.from_bytes(part[:2], "little") for part in tlv_parts(reg, doc.fd)}
    assert tags & set(range(1102, 1108)) == {1107}


def test_vat_tape_refund_receipt_and_close_shift() -> None:
    """tape: a refund's "vat" by code; the close_shift counters split sales and refunds."""
    reg = shift()
    reg.ok(0x50, pw() + u(10000, 5))
    refund = receipt(reg, [(3000, VAT22)], op_type=2, pay=1)
    entry = tape_entry(refund)
    assert entry["kind"] == "refund"
    assert entry["vat"] == {"vat22": "5.41"}
    reg.ok(0x41, pw(SYSADMIN))
    counters = tape_entry(reg.device.state.documents[-1])["counters"]
    assert counters["vat"] == {"sales": {}, "refunds": {"vat22": "5.41"}}


def test_vat_survives_a_restart(tmp_path: Path) -> None:
    """VAT rows, host tax sums and Z counters load back equal from the state file."""
    reg = shift()
    reg.device.set_tax_mode(1)
    reg.ok(0xFF46, ff46_body(price=15000, tax_index=VAT22, tax_sum=2705))
    reg.ok(0xFF45, ff45_body({1: 15000}))
    reg.ok(0x41, pw(SYSADMIN))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    assert loaded.documents == reg.device.state.documents
    again = Register.with_state(loaded)
    assert tlv_parts(again, 3) == tlv_parts(reg, 3)
    assert again.device.tax_mode == 1


def test_vat_older_state_file_loads_with_no_vat(tmp_path: Path) -> None:
    """Documents written before VAT was kept load with none: nothing is computed afterwards."""
    reg = shift()
    receipt(reg, [(15000, VAT22)])
    reg.ok(0x41, pw(SYSADMIN))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    conn = sqlite3.connect(tmp_path / "fn.db")
    for fd, body in conn.execute("SELECT fd, body FROM documents").fetchall():
        raw = json.loads(body)
        raw.pop("vat")
        for item in raw["items"]:
            item.pop("tax_sum")
        if raw["counters"] is not None:
            raw["counters"].pop("sales_vat")
            raw["counters"].pop("refunds_vat")
        conn.execute("UPDATE documents SET body = ? WHERE fd = ?", (json.dumps(raw), fd))
    conn.commit()
    conn.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    old_receipt, old_z = loaded.documents[2], loaded.documents[3]
    assert old_receipt.type is DocType.RECEIPT
    assert old_receipt.vat == ()
    assert tape_entry(old_receipt)["vat"] == {}
    assert tape_entry(old_z)["counters"]["vat"] == {"sales": {}, "refunds": {}}
    again = Register.with_state(loaded)
    tags = {int.from_bytes(part[:2], "little") for part in tlv_parts(again, 3)}
    assert not tags & set(range(1102, 1108))


def test_vat_classic_close_with_no_tax_group_counts_as_none() -> None:
    """0x80 without a tax group is "без НДС": 1105 turnover and row 4's registers."""
    reg = shift()
    reg.ok(0x80, sale_body(1000, 25600, taxes=(0, 0, 0, 0)))
    reg.ok(0x85, close_body(25600))
    doc = reg.device.state.documents[-1]
    assert vat_of(doc) == {"none": "0.00"}
    assert (reg.money(221), reg.money(237)) == (25600, 0)  # row 4: 209+12, 225+12
