"""ShtrihDriver over the fake link: the mark, read_document, the drawer and round trips.

The far side is the simulator's pure device, which does not answer FF3A/FF3B yet: those
answers are scripted here from the hand-built vectors of tests/vectors/shtrih/documents.json
(docs/fn-documents.md), through the rig's intercepts, as test_driver.py scripts refusals.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    Cashier,
    Category,
    Item,
    PaymentMethod,
    Payments,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.drivers.errors import (
    AnswerTimeout,
    CommandNotSupported,
    DocumentNotFound,
    MalformedPayload,
    PaperOut,
    UnexpectedResponse,
)
from agent.drivers.interface import DocumentType, ShiftState
from agent.drivers.shtrih.commands import (
    AddOperationRequest,
    CloseReceiptRequest,
    Command,
    OperationType,
    encode,
)
from agent.drivers.shtrih.driver import MAX_MARK_BYTES, ShtrihDriver
from tests.support.receipts import receipt_ref
from tests.support.shtrih_fakes import utc_now
from tests.support.shtrih_rig import FAST, Rig

CASHIER = Cashier(name="Иванов", inn="500100732259")
CONTACT = "+79990001122"
FF0A = Command.FIND_DOCUMENT
FF0C = Command.WRITE_TLV
FF3A = Command.BEGIN_READ_DOCUMENT
FF3B = Command.READ_DOCUMENT_BLOCK
FF40 = Command.READ_SHIFT_PARAMS
FF45 = Command.CLOSE_RECEIPT
FF46 = Command.ADD_OPERATION
SHORT = Command.READ_SHORT_STATUS

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "shtrih" / "documents.json").read_text("utf-8")
)
RECEIPT = next(v for v in VECTORS["documents"] if v["id"] == "receipt-two-lines-mark")
RECEIPT_BLOCKS = [bytes.fromhex(tlv) for tlv in RECEIPT["tlvs"]]
RECEIPT_HEADER = "FF 0A 00 03 00 1A 0B 15 0C 1E AB 01 00 00 A2 99 24 F9 01 F4 7E 00 00 00"
"""FF0A for the vector's receipt, hand-built from §2.9 of the FF0A layout: type 3, no OFD
ticket, 21.11.26 12:30, FD 427, FP 4179925410 (LE), operation 1, amount 325.00."""
SHORT_STATUS_DATA_OUTPUT = "10 00 1E 92 02 01 00 00 9F E5 18 01 00 92 08 00"
"""The captured 0x10 answer of responses.json '10-real-shift-open' with mode 1 (data output)."""


def _item(price: int = 15000, qty: int = 1_000_000) -> Item:
    return Item(
        name="Игра",
        qty=Micros(qty),
        price=Kopecks(price),
        vat=VatRate.NONE,
        subject=PaymentSubject.SERVICE,
        method=PaymentMethod.FULL_SETTLEMENT,
    )


def _receipt(
    *items: Item,
    cashier: Cashier = CASHIER,
    payments: Payments | None = None,
    contact: str | None = None,
) -> Receipt:
    return Receipt(
        kind=ReceiptKind.SALE,
        category=Category.SERVICE,
        tax_system=TaxSystem.USN_INCOME,
        items=items or (_item(),),
        payments=payments or Payments(cash=Kopecks(20000)),
        cashier=cashier,
        customer_contact=contact,
    )


def _script_document(
    rig: Rig,
    blocks: list[bytes],
    *,
    header: str | None = RECEIPT_HEADER,
    document_type: int = 3,
    length: int | None = None,
) -> None:
    """FF0A answers ``header``; FF3A announces the blocks; FF3B hands them out, then 0x08."""
    if header is not None:
        rig.intercept[FF0A] = lambda _payload: bytes.fromhex(header)
    announced = sum(len(block) for block in blocks) if length is None else length
    rig.intercept[FF3A] = lambda _payload: (
        b"\xff\x3a\x00" + struct.pack("<HH", document_type, announced)
    )
    queue = list(blocks)
    rig.intercept[FF3B] = lambda _payload: (
        b"\xff\x3b\x00" + queue.pop(0) if queue else b"\xff\x3b\x08"
    )


def _sent_since(rig: Rig, start: int) -> list[int]:
    return rig.commands[start:]


# --- the mark ------------------------------------------------------------------------------


async def test_driver_register_writes_the_mark_with_the_cashier_in_one_ff0c(rig: Rig) -> None:
    """1021, 1203 and 1084 (CRM ID = the mark) travel in one FF0C; 1008 in its own."""
    await rig.driver.open_shift(CASHIER)
    written: list[bytes] = []

    def capture(payload: bytes) -> None:
        written.append(payload)

    rig.intercept[FF0C] = capture
    issued = await rig.driver.register(_receipt(contact=CONTACT), ref=receipt_ref("crm-42"))
    assert issued.mark == "crm-42"
    cashier_and_mark = (
        "FF 0C 1E 00 00 00"
        " fd 03 06 00 88 a2 a0 ad ae a2"  # 1021 Иванов
        " b3 04 0c 00 35 30 30 31 30 30 37 33 32 32 35 39"  # 1203
        " 3c 04 14 00 3d 04 06 00 43 52 4d 20 49 44 3e 04 06 00 63 72 6d 2d 34 32"  # 1084
    )
    contact = "FF 0C 1E 00 00 00 f0 03 0c 00 2b 37 39 39 39 30 30 30 31 31 32 32"  # 1008
    assert [w.hex(" ") for w in written] == [
        bytes.fromhex(cashier_and_mark).hex(" "),
        bytes.fromhex(contact).hex(" "),
    ]
    mark = rig.device.state.documents[-1].tags.mark
    assert mark is not None
    assert (mark.name, mark.value) == ("CRM ID", "crm-42")


async def test_driver_register_mark_that_does_not_fit_goes_in_its_own_ff0c(rig: Rig) -> None:
    """A 64-character cashier and a 231-byte mark exceed one FF0C: two FF0C, one receipt."""
    await rig.driver.open_shift(CASHIER)
    written: list[bytes] = []
    rig.intercept[FF0C] = written.append  # returns None: the device still gets it
    mark = "m" * MAX_MARK_BYTES
    cashier = Cashier(name="К" * 64, inn="500100732259")
    issued = await rig.driver.register(_receipt(cashier=cashier), ref=receipt_ref(mark))
    assert issued.mark == mark
    assert [w[6:8] for w in written] == [b"\xfd\x03", b"\x3c\x04"]  # 1021 (+1203), then 1084
    assert len(written[1]) == 6 + 249  # FF 0C, password, the whole 1084: a full frame


@pytest.mark.parametrize(
    "mark",
    [
        pytest.param("", id="empty"),
        pytest.param("m" * (MAX_MARK_BYTES + 1), id="232-bytes"),
        pytest.param("crm-☕", id="not-cp866"),
    ],
)
async def test_driver_register_refuses_a_bad_mark_before_sending(rig: Rig, mark: str) -> None:
    """A mark the FN could not keep exactly is a ValueError before any byte is sent."""
    await rig.driver.open_shift(CASHIER)
    sent = len(rig.commands)
    with pytest.raises(ValueError, match="mark"):
        await rig.driver.register(_receipt(), ref=receipt_ref(mark))
    assert _sent_since(rig, sent) == []


# --- round trips ---------------------------------------------------------------------------


async def test_driver_one_item_receipt_is_three_round_trips_in_steady_state(rig: Rig) -> None:
    """FF46, FF0C, FF45 and nothing else; shift and number are counted, and right."""
    await rig.driver.open_shift(CASHIER)
    for number in (1, 2, 3):
        sent = len(rig.commands)
        issued = await rig.driver.register(_receipt(), ref=receipt_ref(f"crm-{number}"))
        assert _sent_since(rig, sent) == [FF46, FF0C, FF45]
        assert (issued.shift, issued.number) == (1, number)
        document = rig.device.state.documents[-1]
        assert (document.fd, document.shift, document.number) == (
            issued.fd,
            issued.shift,
            issued.number,
        )


async def test_driver_state_and_receipt_cost_six_round_trips(rig: Rig) -> None:
    """What the fiscal service does per receipt: read_state (0x10, 0x11, FF01), then register."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    sent = len(rig.commands)
    state = await rig.driver.read_state()
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-2"))
    assert state.shift is ShiftState.OPEN
    reads = [SHORT, Command.READ_STATUS, Command.READ_FN_STATUS]
    assert _sent_since(rig, sent) == [*reads, FF46, FF0C, FF45]


async def test_driver_restarted_driver_reads_shift_params_once(rig: Rig) -> None:
    """After a restart (connect) the first receipt reads FF40 once, then counts again."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    await rig.driver.aclose()
    rig.driver = ShtrihDriver(transport=rig.link, params=FAST, log=structlog.get_logger("t"))
    await rig.driver.connect()
    sent = len(rig.commands)
    issued = await rig.driver.register(_receipt(), ref=receipt_ref("crm-2"))
    assert _sent_since(rig, sent) == [FF46, FF0C, FF45, FF40]
    assert issued.number == 2
    sent = len(rig.commands)
    assert (await rig.driver.register(_receipt(), ref=receipt_ref("crm-3"))).number == 3
    assert _sent_since(rig, sent) == [FF46, FF0C, FF45]


async def test_driver_after_a_link_failure_polls_first(rig: Rig) -> None:
    """A timed-out exchange: the next receipt polls 0x10 before FF46 and reads FF40 again."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    rig.link.knobs.is_dead = True
    with pytest.raises(AnswerTimeout):
        await rig.driver.read_state()
    rig.link.knobs.is_dead = False
    sent = len(rig.commands)
    issued = await rig.driver.register(_receipt(), ref=receipt_ref("crm-2"))
    assert _sent_since(rig, sent) == [SHORT, FF46, FF0C, FF45, FF40]
    assert issued.number == 2


async def test_driver_fd_jump_rereads_the_shift_params(rig: Rig) -> None:
    """A receipt printed behind the driver's back: FF45's FD jumps, FF40 gives the number."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    now = utc_now()
    line = AddOperationRequest(
        password=1,
        operation=OperationType.INCOME,
        quantity=1_000_000,
        price=100,
        amount=100,
        tax_rate=4,
        payment_method=4,
        payment_subject=4,
        name="чужой",
    )
    assert rig.device.handle(encode(line), now)[2] == 0
    close = CloseReceiptRequest(password=30, payments=(100,) + (0,) * 15, tax_system=2)
    assert rig.device.handle(encode(close), now)[2] == 0
    sent = len(rig.commands)
    issued = await rig.driver.register(_receipt(), ref=receipt_ref("crm-3"))
    assert _sent_since(rig, sent) == [FF46, FF0C, FF45, FF40]
    assert issued.number == 3


async def test_driver_after_a_refusal_reads_shift_params_again(rig: Rig) -> None:
    """A refused receipt: the 0x10 of its cancel check vouches, FF40 is read once more."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    rig.device.set_paper(False)
    with pytest.raises(PaperOut):
        await rig.driver.register(_receipt(), ref=receipt_ref("crm-2"))
    rig.device.set_paper(True)
    sent = len(rig.commands)
    issued = await rig.driver.register(_receipt(), ref=receipt_ref("crm-2"))
    assert _sent_since(rig, sent) == [FF46, FF0C, FF45, FF40]
    assert issued.number == 2


async def test_driver_reads_a_half_read_document_to_its_end_first(rig: Rig) -> None:
    """A register left in mode 1 (a document read cut short) is drained with FF3B first."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.aclose()
    rig.driver = ShtrihDriver(transport=rig.link, params=FAST, log=structlog.get_logger("t"))
    answers = [bytes.fromhex(SHORT_STATUS_DATA_OUTPUT)]
    rig.intercept[SHORT] = lambda _payload: answers.pop(0) if answers else None
    _script_document(rig, RECEIPT_BLOCKS[-1:], header=None)
    sent = len(rig.commands)
    issued = await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    assert _sent_since(rig, sent)[:5] == [SHORT, FF3B, FF3B, SHORT, FF46]
    assert issued.number == 1


async def test_driver_read_document_after_a_failure_drains_a_half_read_one(rig: Rig) -> None:
    """A driver that cannot vouch for the register checks for mode 1 before FF0A."""
    opened = await rig.driver.open_shift(CASHIER)
    await rig.driver.aclose()
    rig.driver = ShtrihDriver(transport=rig.link, params=FAST, log=structlog.get_logger("t"))
    answers = [bytes.fromhex(SHORT_STATUS_DATA_OUTPUT)]
    rig.intercept[SHORT] = lambda _payload: answers.pop(0) if answers else None
    _script_document(rig, RECEIPT_BLOCKS[:2], header=None)
    sent = len(rig.commands)
    document = await rig.driver.read_document(opened.fd)
    assert _sent_since(rig, sent) == [SHORT, FF3B, FF3B, FF3B, SHORT, FF0A]
    assert document.fd == opened.fd
    sent = len(rig.commands)
    await rig.driver.read_document(opened.fd)
    assert _sent_since(rig, sent) == [FF0A]


# --- the drawer ----------------------------------------------------------------------------


async def test_driver_read_cash_drawer_is_one_round_trip(rig: Rig) -> None:
    """read_cash_drawer is money register 241 alone; read_state no longer reads it."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.cash_in(Kopecks(100000))
    await rig.driver.register(_receipt(), ref=receipt_ref("crm-1"))
    sent = len(rig.commands)
    assert await rig.driver.read_cash_drawer() == 100000 + 15000
    assert _sent_since(rig, sent) == [Command.READ_MONEY_REGISTER]
    sent = len(rig.commands)
    await rig.driver.read_state()
    assert Command.READ_MONEY_REGISTER not in _sent_since(rig, sent)


# --- read_document -------------------------------------------------------------------------


def _expected_receipt(document: Any) -> None:
    assert document.is_whole
    assert (document.fd, document.fp, document.type) == (427, 4179925410, DocumentType.RECEIPT)
    assert (document.kind, document.total, document.shift, document.number) == (
        ReceiptKind.SALE,
        32500,
        7,
        3,
    )
    assert document.mark == "crm-1"
    assert [(line.name, line.qty, line.amount) for line in document.items] == [
        ("Кофе", 1_500_000, 22500),
        ("Игра", 1_000_000, 10000),
    ]
    assert document.payments == Payments(
        cash=Kopecks(17500), card=Kopecks(10000), prepaid=Kopecks(5000)
    )
    assert document.issued_at.isoformat() == "2026-11-21T12:30:05+03:00"


async def test_driver_read_document_reads_a_receipt_whole(rig: Rig) -> None:
    """FF0A, FF3A, then one FF3B per tag up to the announced length, and not one more."""
    _script_document(rig, RECEIPT_BLOCKS)
    sent = len(rig.commands)
    document = await rig.driver.read_document(427)
    _expected_receipt(document)
    assert _sent_since(rig, sent) == [FF0A, FF3A] + [FF3B] * len(RECEIPT_BLOCKS)


async def test_driver_read_document_joins_blocks_before_splitting(rig: Rig) -> None:
    """Blocks cut anywhere (7 bytes each here) decode to the same document."""
    raw = b"".join(RECEIPT_BLOCKS)
    _script_document(rig, [raw[i : i + 7] for i in range(0, len(raw), 7)])
    _expected_receipt(await rig.driver.read_document(427))


async def test_driver_read_document_tolerates_an_early_end(rig: Rig) -> None:
    """FF3A announced more than FF3B gave before FN 0x08: the read ends, with a warning."""
    _script_document(rig, RECEIPT_BLOCKS, length=sum(map(len, RECEIPT_BLOCKS)) + 10)
    with capture_logs() as logs:
        document = await rig.driver.read_document(427)
    _expected_receipt(document)
    assert any(e["event"] == "FN ended the document before its length" for e in logs)


async def test_driver_read_document_not_found(rig: Rig) -> None:
    """FN 0x08 on FF0A (the simulator's own answer) or on FF3A is DocumentNotFound."""
    sent = len(rig.commands)
    with pytest.raises(DocumentNotFound) as caught:
        await rig.driver.read_document(999)
    assert (caught.value.fd, _sent_since(rig, sent)) == (999, [FF0A])
    _script_document(rig, RECEIPT_BLOCKS)
    rig.intercept[FF3A] = lambda _payload: b"\xff\x3a\x08"
    with pytest.raises(DocumentNotFound) as caught:
        await rig.driver.read_document(427)
    assert (caught.value.fd, caught.value.command) == (427, FF3A)


async def test_driver_read_document_shift_document_from_its_header(rig: Rig) -> None:
    """An open-shift document is whole in its FF0A header: one round trip."""
    opened = await rig.driver.open_shift(CASHIER)
    sent = len(rig.commands)
    document = await rig.driver.read_document(opened.fd)
    assert _sent_since(rig, sent) == [FF0A]
    assert document.is_whole
    assert (document.type, document.fd, document.fp, document.shift) == (
        DocumentType.OPEN_SHIFT,
        opened.fd,
        opened.fp,
        opened.shift,
    )
    assert (document.items, document.payments, document.mark) == (None, None, None)


async def test_driver_read_document_checks_the_header(rig: Rig) -> None:
    """TLV of another FD than FF0A found is UnexpectedResponse, not a wrong proof."""
    _script_document(rig, RECEIPT_BLOCKS, header=RECEIPT_HEADER.replace("AB 01", "AC 01"))
    with pytest.raises(UnexpectedResponse, match="FD 427"):
        await rig.driver.read_document(428)


async def test_driver_read_document_cut_tlv_is_malformed(rig: Rig) -> None:
    """A tag cut short by the FN is MalformedPayload."""
    blocks = [*RECEIPT_BLOCKS[:-1], RECEIPT_BLOCKS[-1][:-2]]
    _script_document(rig, blocks)
    with pytest.raises(MalformedPayload, match="1084"):
        await rig.driver.read_document(427)


async def test_driver_reads_back_its_own_receipt_from_the_simulator(rig: Rig) -> None:
    """register(mark) then read_document on the simulator: the FN kept the mark and lines."""
    await rig.driver.open_shift(CASHIER)
    receipt = _receipt(
        _item(), _item(price=9990, qty=1_500_000), payments=Payments(cash=Kopecks(30000))
    )
    issued = await rig.driver.register(receipt, ref=receipt_ref("crm-e2e"))
    try:
        document = await rig.driver.read_document(issued.fd)
    except CommandNotSupported:
        pytest.skip(
            "firmware_sim does not answer FF3A/FF3B yet (FN 0x01); the simulator branch that "
            "adds them from the same spec runs this test once merged"
        )
    assert document.is_whole
    assert (document.fd, document.fp, document.mark) == (issued.fd, issued.fp, "crm-e2e")
    assert (document.shift, document.number, document.total) == (
        issued.shift,
        issued.number,
        receipt.total,
    )
    assert document.items is not None
    assert [
        (line.name, line.qty, line.price, line.amount, line.vat) for line in document.items
    ] == [(i.name, i.qty, i.price, i.amount, i.vat) for i in receipt.items]
    assert document.payments == Payments(cash=receipt.cash_kept)
    assert document.issued_at == issued.issued_at.replace(second=document.issued_at.second)
