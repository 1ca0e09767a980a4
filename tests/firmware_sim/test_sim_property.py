"""Property: random command sequences never crash the device and keep its books balanced.

Invariant: for every shift, the receipts on the FN tape add up to the shift's money
registers while it is open and to the close-shift (Z) counters once it is closed; the FDs
are numbered 1, 2, 3, ...; the drawer equals cash in minus cash out over all time.

VAT: every receipt's VAT per tax row follows the rule (tax mode 0: turnover*p/(10000+p)
half up per receipt and row; tax mode 1: the host's line sums), and per rate code the
receipts' VAT on the tape equals the shift's tax registers (0x1A) while the shift is open
and the Z counters once it is closed, to the kopeck.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simwire import (
    ADMIN,
    CASHIER,
    COMPUTE,
    SYSADMIN,
    Register,
    close_body,
    code_bytes,
    ff45_body,
    ff46_body,
    pw,
    sale_body,
    tlv,
    u,
)

from firmware_sim.state import DocType, FnDocument, ReceiptKind, SignTotals, tape_entry

KNOWN = [0x10, 0x11, 0x17, 0x1A, 0x1B, 0x40, 0x41, 0x50, 0x51, 0x80, 0x82, 0x85, 0x88]
KNOWN += [0x8D, 0xB0, 0xE0, 0xFC, 0xFF01, 0xFF03, 0xFF0A, 0xFF0C, 0xFF39, 0xFF3F, 0xFF40]
KNOWN += [0xFF41, 0xFF42, 0xFF45, 0xFF46, 0xFF3A, 0xFF3B, 0x1E, 0x1F]

# The default tax table by hand (docs/simulator.md): row -> (code, rate in 0.01 %).
ROWS = {
    1: ("vat22", 2200),
    2: ("vat10", 1000),
    3: ("vat0", 0),
    4: ("none", 0),
    5: ("vat22_122", 2200),
    6: ("vat10_110", 1000),
    7: ("vat5", 500),
    8: ("vat7", 700),
    9: ("vat5_105", 500),
    10: ("vat7_107", 700),
    11: ("vat20", 2000),
    12: ("vat20_120", 2000),
}
NONE_ROW = 4  # a classic line with no tax group counts here


def _tax_registers(row: int, op: int) -> tuple[int, int]:
    """(turnover, VAT) shift money registers of a tax row and operation, from the spec."""
    if row <= 4:
        return 209 + 4 * (row - 1) + op, 225 + 4 * (row - 1) + op
    return 4432 + 4 * (row - 5) + op, 4400 + 4 * (row - 5) + op


money = st.integers(min_value=0, max_value=30000)
passwords = st.sampled_from([CASHIER, ADMIN, SYSADMIN, 0, 31])

actions = st.one_of(
    st.tuples(st.just("open_shift"), passwords),
    st.tuples(st.just("open_receipt"), st.integers(0, 3)),
    st.tuples(
        st.just("line"),
        st.sampled_from([0x80, 0x82]),
        st.integers(0, 3000),
        money,
        st.integers(0, 5),
    ),
    st.tuples(st.just("close"), money, money, money, money),
    st.tuples(
        st.just("ff46"),
        st.integers(0, 3),
        st.integers(0, 3_000_000),
        money,
        st.integers(0, 13),
        st.one_of(st.just(COMPUTE), st.integers(0, 5000)),
    ),
    st.tuples(st.just("tax_mode"), st.integers(0, 4)),
    st.tuples(
        st.just("ff45"),
        st.dictionaries(st.sampled_from([1, 2, 5, 14, 15, 16]), money, max_size=3),
        st.sampled_from([0x01, 0x02, 0x03, 0x00]),
        st.integers(0, 120),
    ),
    st.tuples(
        st.just("simple"), st.sampled_from([0x88, 0x40, 0x41, 0xFF41, 0xFF42, 0xB0]), passwords
    ),
    st.tuples(st.just("cash"), st.sampled_from([0x50, 0x51]), money),
    st.tuples(st.just("tags"), st.binary(max_size=20)),
    st.tuples(st.just("mark"), st.binary(max_size=8), st.binary(max_size=40)),
    st.tuples(st.just("raw"), st.binary(min_size=1, max_size=60)),
    st.tuples(st.just("garbled"), st.sampled_from(KNOWN), st.binary(max_size=60)),
    receipts := st.tuples(
        st.just("receipt"),
        st.sampled_from(["classic", "fn"]),
        st.sampled_from([ReceiptKind.SALE, ReceiptKind.REFUND]),
        st.lists(
            st.tuples(
                st.integers(1, 3000),
                st.integers(1, 20000),
                st.integers(0, 12),
                st.one_of(st.just(COMPUTE), st.integers(0, 3000)),
            ),
            min_size=1,
            max_size=4,
        ),
        st.sampled_from(["cash", "card", "split", "prepaid"]),
        st.integers(0, 5000),
    ),
    st.tuples(st.just("simple"), st.just(0x41), st.just(SYSADMIN)),
    st.tuples(st.just("open_shift"), st.just(CASHIER)),
    st.tuples(st.just("paper"), st.just(value=True)),
    st.tuples(st.just("advance"), st.integers(0, 30000)),
    st.tuples(st.just("tick"), st.floats(0, 5)),
    st.tuples(st.just("power_cut")),
    st.tuples(st.just("paper"), st.booleans()),
    st.tuples(st.just("ofd_ack"), st.integers(0, 50)),
    receipts,
    receipts,
)


def _payload(action: tuple[object, ...]) -> bytes | None:  # noqa: PLR0911, PLR0912 - one branch per action
    kind = action[0]
    if kind == "open_shift":
        return b"\xe0" + pw(int(action[1]))
    if kind == "open_receipt":
        return b"\x8d" + pw() + bytes([int(action[1])])
    if kind == "line":
        _, cmd, qty, price, tax = action
        return bytes([cmd]) + sale_body(qty, price, taxes=(tax, 0, 0, 0))
    if kind == "close":
        _, cash, p2, p3, p4 = action
        return b"\x85" + close_body(cash, p2, p3, p4)
    if kind == "ff46":
        _, op_type, qty, price, tax, tax_sum = action
        return b"\xff\x46" + ff46_body(
            op_type=op_type, qty_micro=qty, price=price, tax_index=tax, tax_sum=tax_sum
        )
    if kind == "tax_mode":  # 0x1E to table 1 row 1 field 14; 4 is refused
        return b"\x1e" + pw(SYSADMIN) + bytes([1]) + u(1, 2) + bytes([14, int(action[1])])
    if kind == "ff45":
        _, payments, tax_system, rounding = action
        return b"\xff\x45" + ff45_body(payments, tax_system=tax_system, rounding=rounding)
    if kind == "simple":
        return code_bytes(int(action[1])) + pw(int(action[2]))
    if kind == "cash":
        return bytes([int(action[1])]) + pw() + u(int(action[2]), 5)
    if kind == "tags":
        return b"\xff\x0c" + pw(SYSADMIN) + tlv(1021, bytes(action[1]))
    if kind == "mark":
        requisite = tlv(1085, bytes(action[1])) + tlv(1086, bytes(action[2]))
        return b"\xff\x0c" + pw(SYSADMIN) + tlv(1084, requisite)
    if kind == "raw":
        return bytes(action[1])
    if kind == "garbled":
        return code_bytes(int(action[1])) + bytes(action[2])
    return None


def _receipt_payloads(action: tuple[object, ...]) -> list[bytes]:
    """A plausible whole receipt: lines, then a close that usually pays enough."""
    _, style, kind, lines, pay, extra = action
    total = 0
    payloads = []
    for qty_milli, price, row, tax_sum in lines:
        if style == "classic":  # tax groups 0 (none given) .. 4
            cmd = 0x80 if kind is ReceiptKind.SALE else 0x82
            taxes = (row % 5, 0, 0, 0)
            payloads.append(bytes([cmd]) + sale_body(qty_milli, price, taxes=taxes))
            total += (qty_milli * price + 500) // 1000
        else:
            op_type = 1 if kind is ReceiptKind.SALE else 2
            body = ff46_body(
                op_type=op_type,
                qty_micro=qty_milli * 1000,
                price=price,
                tax_index=max(row, 1),
                tax_sum=tax_sum,
            )
            payloads.append(b"\xff\x46" + body)
            total += (qty_milli * 1000 * price + 500_000) // 1_000_000
    split = {
        "cash": {1: total + int(extra)},
        "card": {2: total},
        "split": {1: total // 2 + int(extra), 2: total - total // 2},
        "prepaid": {14: total},
    }[str(pay)]
    if kind is ReceiptKind.REFUND and split.get(1):
        payloads.insert(0, b"\x50" + pw() + u(split[1], 5))  # cash for the refund
    if style == "classic":
        payloads.append(b"\x85" + close_body(split.get(1, 0), split.get(2, 0), split.get(14, 0)))
    else:
        payloads.append(b"\xff\x45" + ff45_body(split))
    return payloads


def _apply(reg: Register, action: tuple[object, ...]) -> None:
    kind = action[0]
    if kind == "receipt":
        _send(reg, b"\x88" + pw())  # like the agent: cancel a leftover receipt first
        if reg.mode() == 3:
            _send(reg, b"\x41" + pw(SYSADMIN))
        _send(reg, b"\xe0" + pw())
        for payload in _receipt_payloads(action):
            _send(reg, payload)
        return
    if kind == "advance":
        reg.device.advance_clock(float(action[1]))
    elif kind == "tick":
        reg.now += timedelta(seconds=float(action[1]))
    elif kind == "power_cut":
        reg.device.power_cut()
    elif kind == "paper":
        reg.device.set_paper(bool(action[1]))
    elif kind == "ofd_ack":
        reg.device.ofd_ack(int(action[1]))
    payload = _payload(action)
    if payload is not None:
        _send(reg, payload)


def _send(reg: Register, payload: bytes) -> None:
    reply = reg.send(payload)
    assert len(reply) >= 2
    if payload[0] == 0xFF:
        assert reply[0] == 0xFF
    else:
        assert reply[0] == payload[0]


def _totals(receipts: list[FnDocument], kind: ReceiptKind) -> SignTotals:
    chosen = [doc for doc in receipts if doc.kind is kind]
    return SignTotals(
        cash=sum(doc.payments[0] for doc in chosen),
        card=sum(sum(doc.payments[1:13]) for doc in chosen),
        prepaid=sum(doc.payments[13] for doc in chosen),
        other=sum(doc.payments[14] + doc.payments[15] for doc in chosen),
        count=len(chosen),
    )


def _top_level(data: bytes) -> dict[int, bytes]:
    """The first value of each top-level tag of a TLV stream (test-side parser)."""
    tags: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        tag = int.from_bytes(data[pos : pos + 2], "little")
        length = int.from_bytes(data[pos + 2 : pos + 4], "little")
        tags.setdefault(tag, data[pos + 4 : pos + 4 + length])
        pos += 4 + length
    assert pos == len(data)
    return tags


def _check_read_back(reg: Register, doc: FnDocument) -> None:
    """FF3A/FF3B return the document's type, FD, total and mark, and as many bytes as said."""
    error, head = reg.call(0xFF3A, pw(SYSADMIN) + u(doc.fd, 4))
    if error == 0x73:  # a print waits for paper
        return
    assert error == 0
    assert int.from_bytes(head[:2], "little") == doc.type.fn_code
    data = b""
    while (answer := reg.call(0xFF3B, pw(SYSADMIN)))[0] == 0:
        data += answer[1]
    assert answer[0] == 0x08
    assert len(data) == int.from_bytes(head[2:4], "little")
    tags = _top_level(data)
    assert tags[1040] == u(doc.fd, 4)
    if doc.total is not None:
        assert int.from_bytes(tags[1020], "little") == doc.total
    if doc.tags.mark is not None:
        assert tags[1084].endswith(doc.tags.mark.value.encode("cp866"))
    else:
        assert 1084 not in tags
    vat_tags = {tag: int.from_bytes(value, "little") for tag, value in tags.items()}
    assert {t: v for t, v in vat_tags.items() if 1102 <= t <= 1107} == _vat_tags(doc)


RECEIPT_VAT_TAG = {  # code -> (tag, carries the turnover), by hand from docs/fn-documents.md
    "vat22": (1102, False),
    "vat20": (1102, False),
    "vat10": (1103, False),
    "vat0": (1104, True),
    "none": (1105, True),
    "vat22_122": (1106, False),
    "vat20_120": (1106, False),
    "vat10_110": (1107, False),
}


def _vat_tags(doc: FnDocument) -> dict[int, int]:
    """The receipt-level VAT tags a document's VAT rows should produce."""
    out: dict[int, int] = {}
    for row in doc.vat:
        if row.code in RECEIPT_VAT_TAG:
            tag, is_turnover = RECEIPT_VAT_TAG[row.code]
            out[tag] = out.get(tag, 0) + (row.turnover if is_turnover else row.vat)
    return out


def _half_up(turnover: int, rate: int) -> int:
    """turnover * rate / (10000 + rate), rounded half up (exact, in fractions)."""
    return int(Fraction(turnover * rate, 10000 + rate) + Fraction(1, 2))


def _check_receipt_vat(doc: FnDocument) -> None:
    """The receipt's VAT rows, from its own lines: the rule in mode 0, the host's sums in 1."""
    turnover: dict[int, int] = defaultdict(int)
    given: dict[int, int] = defaultdict(int)
    for item in doc.items:
        row = item.tax_index or NONE_ROW
        turnover[row] += item.amount
        given[row] += item.tax_sum or 0
    assert [row.index for row in doc.vat] == sorted(turnover)
    for row in doc.vat:
        code, rate = ROWS[row.index]
        assert (row.code, row.turnover) == (code, turnover[row.index])
        if row.rate is None:  # tax mode 1
            assert row.vat == given[row.index]
        else:
            assert row.rate == rate
            assert row.vat == _half_up(row.turnover, rate)
            assert all(item.tax_sum is None for item in doc.items)


def _kopecks(money: str) -> int:
    return int(Decimal(money) * 100)


def _tape_vat(receipts: list[FnDocument], kind: ReceiptKind) -> dict[str, int]:
    """VAT by code over the receipts of one kind, as the tape shows it; zeros left out."""
    out: dict[str, int] = defaultdict(int)
    for doc in receipts:
        if doc.kind is kind:
            for code, money in tape_entry(doc)["vat"].items():
                out[code] += _kopecks(money)
    return {code: vat for code, vat in out.items() if vat}


def _turnover(receipts: list[FnDocument], kind: ReceiptKind) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for doc in receipts:
        if doc.kind is kind:
            for row in doc.vat:
                out[row.code] += row.turnover
    return {code: value for code, value in out.items() if value}


def _check_z_vat(doc: FnDocument, receipts: list[FnDocument]) -> None:
    """The Z counters' VAT by code on the tape = the shift's receipts' VAT on the tape."""
    assert doc.counters is not None
    tape = tape_entry(doc)["counters"]["vat"]
    for key, kind, rows in (
        ("sales", ReceiptKind.SALE, doc.counters.sales_vat),
        ("refunds", ReceiptKind.REFUND, doc.counters.refunds_vat),
    ):
        z = {code: _kopecks(money) for code, money in tape[key].items()}
        assert {code: vat for code, vat in z.items() if vat} == _tape_vat(receipts, kind)
        z_turnover = {row.code: row.turnover for row in rows if row.turnover}
        assert z_turnover == _turnover(receipts, kind)


def _check_open_shift_vat(reg: Register, receipts: list[FnDocument]) -> None:
    """Every tax register (0x1A) = the shift's receipts: VAT per code as on the tape."""
    for kind in (ReceiptKind.SALE, ReceiptKind.REFUND):
        op = 0 if kind is ReceiptKind.SALE else 2
        tape = _tape_vat(receipts, kind)
        turnover = _turnover(receipts, kind)
        for row, (code, _) in ROWS.items():
            turnover_at, vat_at = _tax_registers(row, op)
            assert reg.money(vat_at) == tape.get(code, 0), (code, kind)
            assert reg.money(turnover_at) == turnover.get(code, 0), (code, kind)


def _check_books(reg: Register) -> None:
    state = reg.device.state
    for doc in state.documents:
        _check_read_back(reg, doc)
    assert [doc.fd for doc in state.documents] == list(range(1, len(state.documents) + 1))
    receipts_by_shift: dict[int, list[FnDocument]] = defaultdict(list)
    for doc in state.documents:
        if doc.type is DocType.RECEIPT:
            assert doc.total == sum(doc.payments)
            _check_receipt_vat(doc)
            receipts_by_shift[doc.shift].append(doc)
    moves_by_shift: dict[int, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    for move in state.cash_movements:
        moves_by_shift[move.shift][move.direction] += move.amount
    for doc in state.documents:
        if doc.type is DocType.CLOSE_SHIFT:
            counters = doc.counters
            assert counters is not None
            receipts = receipts_by_shift[doc.shift]
            assert counters.sales == _totals(receipts, ReceiptKind.SALE)
            assert counters.refunds == _totals(receipts, ReceiptKind.REFUND)
            assert counters.receipts == len(receipts)
            assert counters.cash_in == moves_by_shift[doc.shift]["in"]
            assert counters.cash_out == moves_by_shift[doc.shift]["out"]
            _check_z_vat(doc, receipts)
    if state.is_shift_open:
        receipts = receipts_by_shift[state.shift_number]
        sales = _totals(receipts, ReceiptKind.SALE)
        refunds = _totals(receipts, ReceiptKind.REFUND)
        assert reg.money(193) == sales.cash
        assert reg.money(195) == refunds.cash
        assert reg.money(197) == sum(d.payments[1] for d in receipts if d.kind is ReceiptKind.SALE)
        assert reg.money(4180) == sales.prepaid
        assert reg.money(4182) == refunds.prepaid
        assert reg.operating(144) == sales.count
        assert reg.operating(146) == refunds.count
        assert reg.money(242) == moves_by_shift[state.shift_number]["in"]
        assert reg.money(243) == moves_by_shift[state.shift_number]["out"]
        _check_open_shift_vat(reg, receipts)
    all_receipts = [doc for docs in receipts_by_shift.values() for doc in docs]
    drawer = (
        _totals(all_receipts, ReceiptKind.SALE).cash
        - _totals(all_receipts, ReceiptKind.REFUND).cash
        + sum(m["in"] - m["out"] for m in moves_by_shift.values())
    )
    assert reg.money(241) == drawer >= 0
    assert reg.submode() in range(6)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(actions, min_size=5, max_size=60))
def test_device_random_sequences_keep_books_balanced(sequence: list[tuple[object, ...]]) -> None:
    """No input crashes the device; tape, registers and Z counters always agree."""
    reg = Register()
    reg.open_shift()
    for action in sequence:
        _apply(reg, action)
    _check_books(reg)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=255))
def test_device_any_payload_gets_an_answer(payload: bytes) -> None:
    """Any frame payload gets an answer echoing its command code, never an exception."""
    reg = Register()
    reg.open_shift()
    reply = reg.send(payload)
    echo = 2 if payload[0] == 0xFF else 1
    assert reply[:1] == payload[:1]
    assert len(reply) > echo


vat_actions = st.one_of(
    receipts,
    receipts,
    receipts,
    st.tuples(st.just("tax_mode"), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("simple"), st.just(0x41), st.just(SYSADMIN)),
    st.tuples(st.just("open_shift"), st.just(CASHIER)),
    st.tuples(st.just("cash"), st.just(0x50), money),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(vat_actions, min_size=5, max_size=30))
def test_device_vat_on_tape_registers_and_z_agree(sequence: list[tuple[object, ...]]) -> None:
    """Receipts at several rates, both tax modes, refunds, Z reports: VAT agrees everywhere."""
    reg = Register()
    reg.open_shift()
    for action in sequence:
        _apply(reg, action)
    _check_books(reg)
