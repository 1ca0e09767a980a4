"""Device: shifts, receipts, money rules and registers, each with the real error code."""

from __future__ import annotations

from datetime import date

import pytest
from simwire import (
    ADMIN,
    CASHIER,
    SYSADMIN,
    Register,
    close_body,
    config,
    ff45_body,
    ff46_body,
    pw,
    sale_body,
    text,
    tlv,
    u,
)

from firmware_sim.device import Device, fiscal_sign
from firmware_sim.state import DocType, ReceiptKind


@pytest.fixture
def reg() -> Register:
    """A register with a shift open."""
    register = Register()
    register.open_shift()
    return register


# ---- shifts -----------------------------------------------------------------------------------


def test_open_shift_writes_fd_and_answers_operator() -> None:
    """0xE0 in mode 4 answers E0 00 op, writes an open-shift FD and enters mode 2."""
    reg = Register()
    assert reg.send(b"\xe0" + pw(CASHIER)) == b"\xe0\x00\x01"
    doc = reg.device.state.documents[-1]
    assert doc.type is DocType.OPEN_SHIFT
    assert doc.shift == 1
    assert reg.mode() == 2


@pytest.mark.parametrize("age_s", [0, 90000])
def test_open_shift_when_open_is_fn_0x02(age_s: int) -> None:
    """0xE0 with a shift open (mode 2, or 3 past 24 h) answers FN 0x02."""
    reg = Register()
    reg.open_shift()
    reg.tick(age_s)
    assert reg.err(0xE0, pw()) == 0x02


def test_open_shift_with_receipt_open_is_0x4a(reg: Register) -> None:
    """0xE0 inside a receipt answers 0x4A."""
    reg.ok(0x80, sale_body())
    assert reg.err(0xE0, pw()) == 0x4A


def test_open_shift_after_fn_expiry_is_fn_0x05() -> None:
    """An FN past its validity refuses a new shift with FN 0x05."""
    reg = Register(device=Device(config=config(fn_valid_until=date(2026, 11, 20))))
    assert reg.err(0xE0, pw()) == 0x05


def test_mode_3_after_24_hours_on_register_clock(reg: Register) -> None:
    """The shift turns to mode 3 once the register clock is over 24 h past its opening."""
    reg.device.advance_clock(86400)
    assert reg.mode() == 2
    reg.device.advance_clock(1)
    assert reg.mode() == 3


@pytest.mark.parametrize(
    ("cmd", "body", "code"),
    [
        pytest.param(0x8D, pw() + b"\x00", 0x4E, id="open-receipt"),
        pytest.param(0x80, sale_body(), 0x4E, id="sale"),
        pytest.param(0x82, sale_body(), 0x4E, id="sale-return"),
        pytest.param(0x50, pw() + u(100, 5), 0x4E, id="cash-in"),
        pytest.param(0x51, pw() + u(100, 5), 0x4E, id="cash-out"),
        pytest.param(0xFF46, ff46_body(), 0x4E, id="ff46"),
        pytest.param(0xFF41, pw(SYSADMIN), 0x16, id="ff41-fn"),
    ],
)
def test_expired_shift_refuses_sales(reg: Register, cmd: int, body: bytes, code: int) -> None:
    """Past 24 h: sales and cash moves 0x4E, FF document commands FN 0x16."""
    reg.tick(86401)
    assert reg.err(cmd, body) == code


def test_expired_shift_still_closes_with_z(reg: Register) -> None:
    """A Z report works in mode 3 and leaves mode 4."""
    reg.tick(90000)
    reg.ok(0xFF42, pw(SYSADMIN))
    reg.ok(0x41, pw(SYSADMIN))
    assert reg.mode() == 4


def test_receipt_open_across_24_hours_cannot_close(reg: Register) -> None:
    """A receipt left open past 24 h: 0x85 answers 0x4E, FF45 FN 0x16, 0x88 still cancels."""
    reg.ok(0x80, sale_body())
    reg.tick(86401)
    assert reg.err(0x85, close_body(10000)) == 0x4E
    assert reg.err(0xFF45, ff45_body({1: 10000})) == 0x16
    reg.ok(0x88, pw())
    assert reg.mode() == 3


@pytest.mark.parametrize(
    ("cmd", "body"),
    [
        pytest.param(0x8D, pw() + b"\x00", id="open-receipt"),
        pytest.param(0x80, sale_body(), id="sale"),
        pytest.param(0xFF46, ff46_body(), id="ff46"),
        pytest.param(0x50, pw() + u(100, 5), id="cash-in"),
    ],
)
def test_closed_shift_refuses_receipts_0x3d(cmd: int, body: bytes) -> None:
    """No receipt or cash move in a closed shift: 0x3D."""
    assert Register().err(cmd, body) == 0x3D


def test_z_report_in_closed_shift_is_0x3d() -> None:
    """There is no shift to close: 0x3D."""
    assert Register().err(0x41, pw(SYSADMIN)) == 0x3D


def test_z_report_writes_counters_and_resets_shift_registers(reg: Register) -> None:
    """Z: close-shift FD with the shift's counters; shift registers zeroed, 241 kept."""
    reg.sell(price=10000, cash=15000)
    reg.ok(0x80, sale_body(price=5000))
    reg.ok(0x85, close_body(0, 5000))
    reg.ok(0x82, sale_body(price=3000))
    reg.ok(0x85, close_body(3000))
    reg.ok(0x50, pw() + u(2000, 5))
    reg.ok(0x51, pw() + u(500, 5))
    reg.ok(0x41, pw(SYSADMIN))
    doc = reg.device.state.documents[-1]
    assert doc.type is DocType.CLOSE_SHIFT
    counters = doc.counters
    assert counters is not None
    assert (counters.sales.cash, counters.sales.card, counters.sales.count) == (10000, 5000, 2)
    assert (counters.refunds.cash, counters.refunds.count) == (3000, 1)
    assert (counters.cash_in, counters.cash_out) == (2000, 500)
    assert counters.cash_in_drawer == 10000 - 3000 + 2000 - 500
    assert (counters.receipts, counters.first_fd, counters.last_fd) == (3, 2, doc.fd)
    assert counters.documents == doc.fd - 2 + 1
    assert [reg.money(n) for n in (193, 197, 195, 242, 243)] == [0, 0, 0, 0, 0]
    assert reg.money(241) == 8500
    assert reg.operating(144) == 0
    assert reg.operating(159) == 1
    assert reg.mode() == 4


def test_x_report_prints_without_fd(reg: Register) -> None:
    """X: no FD, the shift stays open, the X counter moves."""
    before = reg.last_fd()
    assert reg.ok(0x40, pw(SYSADMIN)) == bytes([SYSADMIN])
    assert reg.last_fd() == before
    assert reg.mode() == 2
    assert reg.operating(158) == 1


@pytest.mark.parametrize(
    ("cmd", "body"),
    [
        pytest.param(0x40, pw(SYSADMIN), id="x-report"),
        pytest.param(0x41, pw(SYSADMIN), id="z-report"),
        pytest.param(0x50, pw() + u(100, 5), id="cash-in"),
        pytest.param(0x8D, pw() + b"\x00", id="open-receipt"),
        pytest.param(0xFF42, pw(SYSADMIN), id="ff42"),
    ],
)
def test_receipt_open_refuses_other_documents_0x4a(reg: Register, cmd: int, body: bytes) -> None:
    """Reports, cash moves and a second receipt inside a receipt: 0x4A."""
    reg.ok(0x80, sale_body())
    assert reg.err(cmd, body) == 0x4A


# ---- classic receipts -------------------------------------------------------------------------


def test_classic_sale_with_change(reg: Register) -> None:
    """8D/80/85: 150.00 cash for 100.00 gives 50.00 change; 100.00 stays in the drawer."""
    data = reg.sell(price=10000, cash=15000)
    assert data == bytes([CASHIER]) + u(5000, 5)
    assert reg.money(193) == 10000
    assert reg.money(241) == 10000
    doc = reg.device.state.documents[-1]
    assert (doc.total, doc.change, doc.payments[0], doc.number) == (10000, 5000, 10000, 1)
    assert doc.kind is ReceiptKind.SALE
    assert doc.items[0].name == "Товар"
    assert doc.items[0].vat == "vat22"


def test_classic_quantity_times_price_rounds_half_up(reg: Register) -> None:
    """qty x1000: 1.5 x 33.33 = 49.995 -> 50.00."""
    reg.ok(0x80, sale_body(qty_milli=1500, price=3333))
    assert reg.device.state.open_receipt is not None
    assert reg.device.state.open_receipt.total == 5000


def test_sale_accepts_pyshtrih_48_byte_text(reg: Register) -> None:
    """Text fields longer than 40 bytes (pyshtrih sends 48) are accepted."""
    reg.ok(0x80, sale_body(width=48))
    reg.ok(0x80, sale_body(width=40))
    reg.ok(0x80, sale_body(width=100))


def test_sale_implicitly_opens_receipt(reg: Register) -> None:
    """0x80 with no receipt open opens a sale receipt."""
    reg.ok(0x80, sale_body())
    assert reg.mode() == 0x08


def test_return_line_in_sale_receipt_is_0x49(reg: Register) -> None:
    """A sale-return line inside a sale receipt answers 0x49."""
    reg.ok(0x80, sale_body())
    assert reg.err(0x82, sale_body()) == 0x49


def test_open_receipt_types(reg: Register) -> None:
    """8D accepts 0 (sale) and 2 (sale return); other types answer 0x33."""
    assert reg.err(0x8D, pw() + b"\x01") == 0x33
    assert reg.err(0x8D, pw() + b"\x04") == 0x33
    reg.ok(0x8D, pw() + b"\x02")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(sale_body(qty_milli=0), id="zero-qty"),
        pytest.param(sale_body(dept=17), id="department-17"),
        pytest.param(sale_body(taxes=(5, 0, 0, 0)), id="tax-group-5"),
    ],
)
def test_sale_fields_out_of_range_0x33(reg: Register, body: bytes) -> None:
    """Line fields out of range answer 0x33."""
    assert reg.err(0x80, body) == 0x33


def test_refund_returns_cash_from_drawer(reg: Register) -> None:
    """A cash refund takes money out of the drawer and counts in registers 195/146."""
    reg.sell(price=10000)
    reg.ok(0x8D, pw() + b"\x02")
    reg.ok(0x82, sale_body(price=4000))
    assert reg.ok(0x85, close_body(4000)) == bytes([CASHIER]) + u(0, 5)
    assert reg.money(195) == 4000
    assert reg.money(241) == 6000
    assert reg.operating(146) == 1
    assert reg.device.state.documents[-1].kind is ReceiptKind.REFUND


def test_refund_above_drawer_is_0x46(reg: Register) -> None:
    """A cash refund larger than the drawer answers 0x46; the receipt stays open."""
    reg.ok(0x82, sale_body(price=4000))
    assert reg.err(0x85, close_body(4000)) == 0x46
    assert reg.mode() == 0x28


def test_payments_below_total_0x45(reg: Register) -> None:
    """Payments short of the total answer 0x45."""
    reg.ok(0x80, sale_body(price=10000))
    assert reg.err(0x85, close_body(9999)) == 0x45


def test_non_cash_above_total_0x4d(reg: Register) -> None:
    """Card above the total answers 0x4D: change only from cash."""
    reg.ok(0x80, sale_body(price=10000))
    assert reg.err(0x85, close_body(0, 10001)) == 0x4D


def test_zero_total_0x8e(reg: Register) -> None:
    """A receipt with a zero total cannot close: 0x8E."""
    reg.ok(0x80, sale_body(price=0))
    assert reg.err(0x85, close_body(0)) == 0x8E


@pytest.mark.parametrize(
    ("cmd", "body"),
    [
        pytest.param(0x85, close_body(100), id="close"),
        pytest.param(0x88, pw(), id="cancel"),
        pytest.param(0xFF45, ff45_body({1: 100}), id="ff45"),
    ],
)
def test_no_receipt_open_0x55(reg: Register, cmd: int, body: bytes) -> None:
    """Close or cancel with no receipt answers 0x55."""
    assert reg.err(cmd, body) == 0x55


def test_discount_on_close_not_supported_0x33(reg: Register) -> None:
    """A percentage discount on 0x85 is refused with 0x33 (documented deviation)."""
    reg.ok(0x80, sale_body())
    assert reg.err(0x85, close_body(10000, discount=500)) == 0x33


def test_card_payment_registers(reg: Register) -> None:
    """Type 2, 3, 4 payments land in registers 197, 201, 205; cash drawer untouched."""
    reg.ok(0x80, sale_body(price=6000))
    reg.ok(0x85, close_body(0, 1000, 2000, 3000))
    assert [reg.money(n) for n in (197, 201, 205, 241)] == [1000, 2000, 3000, 0]


def test_cancel_receipt_writes_no_fd(reg: Register) -> None:
    """0x88 drops the receipt: no FD, mode back to 2, nothing in the registers."""
    before = reg.last_fd()
    reg.ok(0x80, sale_body())
    reg.ok(0x88, pw())
    assert reg.last_fd() == before
    assert reg.mode() == 2
    assert reg.money(193) == 0


def test_print_line_recorded_on_open_receipt(reg: Register) -> None:
    """0x17 inside a receipt is kept with the receipt's lines."""
    reg.ok(0x8D, pw() + b"\x00")
    reg.ok(0x17, pw() + b"\x02" + text("Клуб Арена", 48))
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.lines == ("Клуб Арена",)


def test_refused_command_leaves_state_unchanged(reg: Register) -> None:
    """A refused close changes nothing: the state snapshot is identical."""
    reg.ok(0x80, sale_body(price=10000))
    before = reg.device.state
    revision = reg.device.revision
    assert reg.err(0x85, close_body(100)) == 0x45
    assert reg.device.state == before
    assert reg.device.revision == revision


# ---- cash in/out ------------------------------------------------------------------------------


def test_cash_in_and_out_registers(reg: Register) -> None:
    """0x50/0x51 move 241, count 242/243 and 153/154, answer a document number."""
    data = reg.ok(0x50, pw() + u(5000, 5))
    assert data[0] == CASHIER
    first = int.from_bytes(data[1:3], "little")
    data = reg.ok(0x51, pw() + u(2000, 5))
    assert int.from_bytes(data[1:3], "little") == first + 1
    assert [reg.money(n) for n in (241, 242, 243)] == [3000, 5000, 2000]
    assert [reg.operating(n) for n in (153, 154)] == [1, 1]


def test_cash_out_above_drawer_0x46(reg: Register) -> None:
    """Paying out more than the drawer holds answers 0x46."""
    reg.ok(0x50, pw() + u(1000, 5))
    assert reg.err(0x51, pw() + u(1001, 5)) == 0x46


def test_cash_moves_are_not_fiscal_documents(reg: Register) -> None:
    """Cash in/out write no FD."""
    before = reg.last_fd()
    reg.ok(0x50, pw() + u(1000, 5))
    assert reg.last_fd() == before
    assert len(reg.device.state.cash_movements) == 1


# ---- FN-era receipts --------------------------------------------------------------------------


def test_ff46_opens_receipt_and_ff45_closes_with_fd(reg: Register) -> None:
    """FF46 opens implicitly; FF45 answers change, FD, FP and the date-time."""
    assert reg.ok(0xFF46, ff46_body(price=12000)) == b""
    assert reg.mode() == 0x08
    data = reg.ok(0xFF45, ff45_body({1: 20000}))
    assert len(data) == 18
    change = int.from_bytes(data[0:5], "little")
    fd = int.from_bytes(data[5:9], "little")
    fp = int.from_bytes(data[9:13], "little")
    doc = reg.device.state.documents[-1]
    assert (change, fd, fp) == (8000, doc.fd, doc.fp)
    assert data[13:18] == bytes(
        [
            doc.issued_at.year % 100,
            doc.issued_at.month,
            doc.issued_at.day,
            doc.issued_at.hour,
            doc.issued_at.minute,
        ]
    )
    assert doc.tax_system == 0x02
    assert doc.items[0].vat == "none"


def test_ff46_return_opens_return_receipt(reg: Register) -> None:
    """FF46 op type 2 opens a sale-return receipt (mode 0x28)."""
    reg.ok(0xFF46, ff46_body(op_type=2))
    assert reg.mode() == 0x28


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(ff46_body(tax_index=0), id="tax-index-0"),
        pytest.param(ff46_body(tax_index=13), id="tax-index-13"),
        pytest.param(ff46_body(op_type=3), id="op-type-3"),
        pytest.param(ff46_body(qty_micro=0), id="zero-qty"),
        pytest.param(ff46_body(amount=10002), id="amount-off-by-2"),
        pytest.param(ff46_body(method=0), id="method-0"),
        pytest.param(ff46_body(subject=0), id="subject-0"),
        pytest.param(ff46_body(dept=17), id="department-17"),
        pytest.param(ff46_body(name="x" * 129), id="name-129"),
    ],
)
def test_ff46_fields_out_of_range(reg: Register, body: bytes) -> None:
    """FF46 fields out of range answer 0x33 (a name over 128 bytes: FN 0x09)."""
    assert reg.err(0xFF46, body) in (0x33, 0x09)
    assert reg.mode() == 2


def test_ff46_amount_within_one_kopeck(reg: Register) -> None:
    """An explicit amount within ±1 kopeck of price x qty is accepted and kept."""
    reg.ok(0xFF46, ff46_body(qty_micro=333_333, price=10000, amount=3334))
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.items[0].amount == 3334


@pytest.mark.parametrize(("index", "code"), [(1, "vat22"), (5, "vat22_122"), (12, "vat20_120")])
def test_ff46_tax_byte_is_table_index(reg: Register, index: int, code: str) -> None:
    """The FF46 tax byte indexes the default tax table."""
    reg.ok(0xFF46, ff46_body(tax_index=index))
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.items[0].vat == code


@pytest.mark.parametrize("tax_system", [0, 0x03, 0x40])
def test_ff45_tax_system_must_be_one_bit(reg: Register, tax_system: int) -> None:
    """FF45 tax system: exactly one of bits 0..5, else 0x33."""
    reg.ok(0xFF46, ff46_body())
    assert reg.err(0xFF45, ff45_body({1: 10000}, tax_system=tax_system)) == 0x33


def test_ff45_prepayment_and_card_registers(reg: Register) -> None:
    """Type 14 goes to K-register 4180, type 2 to 197, type 5 to 4144."""
    reg.ok(0xFF46, ff46_body(price=10000))
    reg.ok(0xFF45, ff45_body({2: 5000, 5: 1000, 14: 4000}))
    assert reg.money(4180) == 4000
    assert reg.money(197) == 5000
    assert reg.money(4144) == 1000
    doc = reg.device.state.documents[-1]
    assert (doc.payments[1], doc.payments[13]) == (5000, 4000)


def test_ff45_rounding_lowers_total(reg: Register) -> None:
    """FF45 rounding (kopecks) comes off the receipt total."""
    reg.ok(0xFF46, ff46_body(price=10050))
    reg.ok(0xFF45, ff45_body({1: 10000}, rounding=50))
    assert reg.device.state.documents[-1].total == 10000


# ---- tags -------------------------------------------------------------------------------------


def test_tlv_tags_on_receipt(reg: Register) -> None:
    """FF0C cashier name/INN (cp866) go on the receipt; 1008 only as a flag."""
    reg.ok(0xFF46, ff46_body())
    tags = (
        tlv(1021, "Иванова".encode("cp866"))
        + tlv(1203, b"123456789012")
        + tlv(1008, b"buyer@example.com")
    )
    reg.ok(0xFF0C, pw(SYSADMIN) + tags)
    reg.ok(0xFF45, ff45_body({1: 10000}))
    doc = reg.device.state.documents[-1]
    assert doc.tags.cashier == "Иванова"
    assert doc.tags.cashier_inn == "123456789012"
    assert doc.tags.has_contact
    assert "example.com" not in repr(reg.device.state)


def test_tlv_tags_on_shift_documents() -> None:
    """FF41 then FF0C puts the cashier on the open-shift FD; FF42 likewise on the Z."""
    reg = Register()
    reg.ok(0xFF41, pw(SYSADMIN))
    assert reg.ok(0xFF01, pw(SYSADMIN))[1] == 0x02
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1021, "Петров".encode("cp866")))
    reg.open_shift()
    assert reg.device.state.documents[-1].tags.cashier == "Петров"
    reg.ok(0xFF42, pw(SYSADMIN))
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1021, "Сидоров".encode("cp866")))
    reg.ok(0x41, pw(ADMIN))
    assert reg.device.state.documents[-1].tags.cashier == "Сидоров"


def test_tlv_with_nothing_open_is_fn_0x02(reg: Register) -> None:
    """FF0C with no receipt and no begun shift document answers FN 0x02."""
    assert reg.err(0xFF0C, pw(SYSADMIN) + tlv(1021, b"X")) == 0x02


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        pytest.param(tlv(1021, b"x" * 247), 0x10, id="over-250-bytes"),
        pytest.param(b"\x01\x02\x03", 0x09, id="truncated-header"),
        pytest.param(u(1021, 2) + u(10, 2) + b"abc", 0x09, id="truncated-value"),
        pytest.param(tlv(1203, b"1" * 13), 0x09, id="inn-too-long"),
    ],
)
def test_tlv_malformed(reg: Register, payload: bytes, code: int) -> None:
    """Bad TLV answers FN 0x09 (0x10 when over 250 bytes)."""
    reg.ok(0xFF46, ff46_body())
    assert reg.err(0xFF0C, pw(SYSADMIN) + payload) == code


# ---- paper, printing, power -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "body"),
    [
        pytest.param(0x80, sale_body(), id="sale"),
        pytest.param(0x40, pw(SYSADMIN), id="x-report"),
        pytest.param(0x41, pw(SYSADMIN), id="z-report"),
        pytest.param(0x17, pw() + b"\x02" + text(), id="print-line"),
        pytest.param(0xFF46, ff46_body(), id="ff46"),
    ],
)
def test_paper_out_refuses_printing_0x6b(reg: Register, cmd: int, body: bytes) -> None:
    """Without paper, printing commands answer 0x6B; status and FN queries still work."""
    reg.device.set_paper(False)
    assert reg.err(cmd, body) == 0x6B
    assert reg.submode() == 1
    reg.ok(0xFF01, pw(SYSADMIN))
    reg.device.set_paper(True)
    assert reg.submode() == 0
    reg.ok(cmd, body)


def test_printing_submode_5_then_ready() -> None:
    """After a document the register prints for print_time_s: submode 5, 0x50 to documents."""
    reg = Register(device=Device(config=config(print_time_s=2.0)))
    reg.open_shift()
    assert reg.submode() == 5
    assert reg.err(0x80, sale_body()) == 0x50
    reg.ok(0xFF01, pw(SYSADMIN))
    reg.tick(2.5)
    assert reg.submode() == 0
    reg.ok(0x80, sale_body())


def test_paper_runs_out_while_printing_needs_continue() -> None:
    """Paper out mid-print: submode 2; paper back: submode 3 and 0x58 until 0xB0."""
    reg = Register(device=Device(config=config(print_time_s=2.0)))
    reg.open_shift()
    reg.device.set_paper(False)
    assert reg.submode() == 2
    assert reg.err(0xB0, pw()) == 0x6B
    reg.device.set_paper(True)
    assert reg.submode() == 3
    assert reg.err(0x80, sale_body()) == 0x58
    reg.ok(0xB0, pw())
    assert reg.submode() == 5
    reg.tick(3)
    assert reg.submode() == 0


def test_power_cut_loses_only_the_open_receipt(reg: Register) -> None:
    """Power cut mid-receipt: the receipt is gone, the FDs and registers stay."""
    reg.sell(price=10000)
    before = reg.device.state
    reg.ok(0x80, sale_body(price=777))
    reg.device.power_cut()
    after = reg.device.state
    assert after.open_receipt is None
    assert after.documents == before.documents
    assert after.money == before.money
    assert reg.mode() == 2


# ---- fiscal sign --------------------------------------------------------------------------------


def test_fiscal_sign_is_deterministic_ten_digits(reg: Register) -> None:
    """The FP stand-in depends on the document and the FN serial and fits 10 digits."""
    reg.sell()
    doc = reg.device.state.documents[-1]
    assert doc.fp == fiscal_sign(config().fn_serial, doc)
    assert 0 <= doc.fp <= 4294967295
    assert fiscal_sign("1111222233334444", doc) != doc.fp
