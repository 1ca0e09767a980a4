"""Property: random command sequences never crash the device and keep its books balanced.

Invariant: for every shift, the receipts on the FN tape add up to the shift's money
registers while it is open and to the close-shift (Z) counters once it is closed; the FDs
are numbered 1, 2, 3, ...; the drawer equals cash in minus cash out over all time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simwire import (
    ADMIN,
    CASHIER,
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

from firmware_sim.state import DocType, FnDocument, ReceiptKind, SignTotals

KNOWN = [0x10, 0x11, 0x17, 0x1A, 0x1B, 0x40, 0x41, 0x50, 0x51, 0x80, 0x82, 0x85, 0x88]
KNOWN += [0x8D, 0xB0, 0xE0, 0xFC, 0xFF01, 0xFF03, 0xFF0A, 0xFF0C, 0xFF39, 0xFF3F, 0xFF40]
KNOWN += [0xFF41, 0xFF42, 0xFF45, 0xFF46, 0xFF3A, 0xFF3B]

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
    ),
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
        st.lists(st.tuples(st.integers(1, 3000), st.integers(1, 20000)), min_size=1, max_size=3),
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


def _payload(action: tuple[object, ...]) -> bytes | None:  # noqa: PLR0911 - one branch per action
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
        _, op_type, qty, price, tax = action
        return b"\xff\x46" + ff46_body(op_type=op_type, qty_micro=qty, price=price, tax_index=tax)
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
    for qty_milli, price in lines:
        if style == "classic":
            cmd = 0x80 if kind is ReceiptKind.SALE else 0x82
            payloads.append(bytes([cmd]) + sale_body(qty_milli, price))
            total += (qty_milli * price + 500) // 1000
        else:
            op_type = 1 if kind is ReceiptKind.SALE else 2
            payloads.append(
                b"\xff\x46" + ff46_body(op_type=op_type, qty_micro=qty_milli * 1000, price=price)
            )
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


def _totals(receipts: list[object], kind: ReceiptKind) -> SignTotals:
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


def _check_books(reg: Register) -> None:
    state = reg.device.state
    for doc in state.documents:
        _check_read_back(reg, doc)
    assert [doc.fd for doc in state.documents] == list(range(1, len(state.documents) + 1))
    receipts_by_shift: dict[int, list[object]] = defaultdict(list)
    for doc in state.documents:
        if doc.type is DocType.RECEIPT:
            assert doc.total == sum(doc.payments)
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
