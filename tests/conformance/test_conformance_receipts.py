"""Conformance: receipts of every kind, payment and VAT rate, and the facts recovery needs.

Written against :class:`agent.drivers.interface.FiscalDriver` and the neutral control handle
only (tests/conformance/conftest.py), so every protocol's driver passes the same tests on its
own simulator. The tape is ``firmware-sim tape`` (money as "150.00", VAT by contract code).

A register with an FD archive (Shtrih, ATOL) numbers its documents and reads them back by
number; SmartOne keeps receipts by request key instead (``find_receipt``). The tests prove
what a receipt is through :func:`~tests.conformance.conftest.recovered` and the tape entry
that carries its mark, and the FD arithmetic only where the register has an archive.
"""

from __future__ import annotations

import time

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import Payments, ReceiptKind, VatRate
from agent.domain.vat import rate_vat
from agent.drivers.errors import DeviceError, DocumentNotFound, LinkError, ReceiptNotOpen
from agent.drivers.interface import DocumentType, FindsReceiptsByRequest, ReceiptRef
from tests.conformance.conftest import CASHIER, Rig, marked, recovered, tape_entry
from tests.support.conformance_rigs import Operation
from tests.support.receipts import goods_receipt, paid_receipt

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

COFFEE = 15000  # 150.00


def _ref(request_id: str, attempt: int = 1) -> ReceiptRef:
    return ReceiptRef(id=request_id, mark=request_id, attempt=attempt)


def _money(kopecks: int) -> str:
    """Money as the tape writes it: 15000 -> "150.00"."""
    whole, cents = divmod(kopecks, 100)
    return f"{whole}.{cents:02d}"


async def test_cash_sale_with_change(rig: Rig) -> None:
    """150.00 paid with 200.00: 50.00 change (FD after the open); register, tape, read-back agree."""
    opened = await rig.driver.open_shift(CASHIER)
    ref = _ref("conf-cash")
    issued = await rig.driver.register(goods_receipt((COFFEE, rig.rate), cash=20000), ref=ref)
    assert (issued.fn, issued.shift, issued.number) == (rig.info.fn_serial, opened.shift, 1)
    if rig.has_fd_archive:
        assert issued.fd == opened.fd + 1
    assert (issued.change, issued.mark) == (5000, "conf-cash")
    document = await recovered(rig, ref, issued.fd)
    assert (document.type, document.kind, document.total) == (
        DocumentType.RECEIPT,
        ReceiptKind.SALE,
        COFFEE,
    )
    assert (document.fp, document.mark, document.doc_id) == (issued.fp, "conf-cash", issued.doc_id)
    assert document.payments == Payments(cash=Kopecks(COFFEE))  # net of change
    entry = tape_entry(rig, "conf-cash", issued.fd)
    assert (entry["kind"], entry["total"], entry["change"], entry["mark"]) == (
        "sale",
        "150.00",
        "50.00",
        "conf-cash",
    )
    assert entry["payments"]["cash"] == "150.00"


@pytest.mark.parametrize(
    "payments",
    [
        pytest.param(Payments(card=Kopecks(COFFEE)), id="card"),
        pytest.param(Payments(prepaid=Kopecks(COFFEE)), id="prepaid"),
        pytest.param(
            Payments(cash=Kopecks(5000), card=Kopecks(6000), prepaid=Kopecks(4000)), id="mixed"
        ),
    ],
)
async def test_every_payment_kind(rig: Rig, payments: Payments) -> None:
    """Card, prepaid and mixed: the document and the shift's counters carry the split."""
    await rig.driver.open_shift(CASHIER)
    ref = _ref(f"conf-pay-{payments.cash}-{payments.card}-{payments.prepaid}")
    issued = await rig.driver.register(paid_receipt((COFFEE, rig.rate), payments=payments), ref=ref)
    assert issued.change == 0
    document = await recovered(rig, ref, issued.fd)
    assert document.payments == payments
    counters = await rig.driver.read_counters()
    sales = counters.sales
    assert (sales.cash, sales.card, sales.prepaid, sales.count) == (
        payments.cash,
        payments.card,
        payments.prepaid,
        1,
    )
    entry = tape_entry(rig, ref.mark, issued.fd)
    assert entry["payments"] == {
        "cash": _money(payments.cash),
        "card": _money(payments.card),
        "prepaid": _money(payments.prepaid),
    }


async def test_every_vat_rate(rig: Rig) -> None:
    """One line per rate the register takes: the tape's VAT and the shift's sales_vat are the
    agreed rule's (Shtrih, ATOL: every rate; SmartOne: its country's percents)."""
    await rig.driver.open_shift(CASHIER)
    price = 12200
    rates = rig.accepted_rates
    receipt = goods_receipt(*[(price, rate) for rate in rates])
    ref = _ref("conf-vat")
    issued = await rig.driver.register(receipt, ref=ref)
    expected = {rate: rate_vat(Kopecks(price), rate) for rate in VatRate}
    assert expected[VatRate.VAT22] == 2200
    assert expected[VatRate.VAT22_122] == 2200
    assert expected[VatRate.NONE] == expected[VatRate.VAT0] == 0
    on_tape: dict[str, int] = {}
    for rate in rates:  # a rate the register cannot tell apart is summed under its twin
        code = rig.tape_rates.get(rate, rate).code
        on_tape[code] = on_tape.get(code, 0) + expected[rate]
    entry = tape_entry(rig, ref.mark, issued.fd)
    assert entry["vat"] == {code: _money(vat) for code, vat in on_tape.items()}
    document = await recovered(rig, ref, issued.fd)
    if rig.has_fd_archive:
        assert document.items is not None
        assert [line.vat for line in document.items] == list(rates)
        assert [line.amount for line in document.items] == [price] * len(rates)
    else:  # the device gives the lines back on paper only (a copy)
        assert document.total == price * len(rates)
    counters = await rig.driver.read_counters()
    readable = {rate: counters.sales_vat.get(rate) for rate in rates}
    assert readable == {rate: expected[rate] for rate in rates}, "every rate has its VAT read"
    assert set(counters.refunds_vat.values()) == {0}


async def test_refund(rig: Rig) -> None:
    """A sale, then its refund in cash: a refund document, counted as a refund with its VAT."""
    await rig.driver.open_shift(CASHIER)
    drawer = await rig.driver.read_cash_drawer()
    await rig.driver.register(goods_receipt((12200, rig.rate)), ref=_ref("conf-sale"))
    assert await rig.driver.read_cash_drawer() == drawer + 12200
    refund = paid_receipt(
        (12200, rig.rate), payments=Payments(cash=Kopecks(12200)), kind=ReceiptKind.REFUND
    )
    ref = _ref("conf-refund")
    issued = await rig.driver.register(refund, ref=ref)
    assert issued.number == 2
    if rig.has_fd_archive:
        header = await rig.driver.find_document(issued.fd)
        assert (header.kind, header.total) == (ReceiptKind.REFUND, 12200)
    document = await recovered(rig, ref, issued.fd)
    assert (document.kind, document.mark) == (ReceiptKind.REFUND, "conf-refund")
    counters = await rig.driver.read_counters()
    assert (counters.refunds.cash, counters.refunds.count) == (12200, 1)
    assert (counters.sales.cash, counters.sales.count) == (12200, 1)
    assert counters.refunds_vat.get(rig.rate) == rate_vat(Kopecks(12200), rig.rate)
    assert await rig.driver.read_cash_drawer() == drawer
    entry = tape_entry(rig, ref.mark, issued.fd)
    assert (entry["kind"], entry["mark"]) == ("refund", "conf-refund")


async def test_recovery_facts(rig: Rig) -> None:
    """last_fd grows by one per receipt; the header and the whole document read back."""
    if not rig.has_fd_archive:
        pytest.skip(
            f"{rig.protocol} has no FD archive (no FD sequence, no read by number): recovery"
            " is by request key, covered by test_every_receipt_is_found_by_its_request"
        )
    opened = await rig.driver.open_shift(CASHIER)
    before = await rig.driver.read_ledger()
    assert (before.fn_serial, before.last_fd) == (rig.info.fn_serial, opened.fd)
    assert before.shift_number == opened.shift
    assert not before.is_receipt_open
    receipts = [
        goods_receipt((COFFEE, VatRate.VAT22)),
        goods_receipt((COFFEE, VatRate.VAT22), (5000, VatRate.VAT10)),
        goods_receipt((COFFEE, VatRate.VAT22)),  # the same total again: told apart by the mark
    ]
    issued = []
    for number, receipt in enumerate(receipts, start=1):
        done = await rig.driver.register(receipt, ref=_ref(f"conf-fact-{number}"))
        ledger = await rig.driver.read_ledger()
        assert ledger.last_fd == before.last_fd + number == done.fd
        assert rig.control.last_fd() == done.fd
        issued.append(done)
    for done, receipt in zip(issued, receipts, strict=True):
        header = await rig.driver.find_document(done.fd)
        assert (header.fd, header.type, header.fp, header.kind, header.total) == (
            done.fd,
            DocumentType.RECEIPT,
            done.fp,
            ReceiptKind.SALE,
            receipt.total,
        )
        assert header.items is None
        assert header.mark is None
        assert not header.is_whole
        whole = await rig.driver.read_document(done.fd)
        assert whole.is_whole
        assert whole.mark == done.mark
        assert whole.items is not None
        lines = [(line.qty, line.price, line.amount, line.vat) for line in whole.items]
        assert lines == [(item.qty, item.price, item.amount, item.vat) for item in receipt.items]
        assert whole.payments == Payments(cash=receipt.total)
    opening = await rig.driver.find_document(opened.fd)
    assert (opening.type, opening.shift) == (DocumentType.OPEN_SHIFT, opened.shift)
    with pytest.raises(DocumentNotFound):
        await rig.driver.find_document(issued[-1].fd + 1)
    with pytest.raises(DocumentNotFound):
        await rig.driver.read_document(issued[-1].fd + 1)


async def test_every_receipt_is_found_by_its_request(rig: Rig) -> None:
    """Three receipts, two of one total: each is found again as its own request's document
    (by key where the device keeps them so, else by its FD), with its total and payment, also
    by a driver that did not send it; its mark is on the tape once; a request never sent is
    found nowhere."""
    await rig.driver.open_shift(CASHIER)
    receipts = [
        goods_receipt((COFFEE, rig.rate)),
        goods_receipt((COFFEE, rig.rate), (5000, rig.rate)),
        goods_receipt((COFFEE, rig.rate)),  # the same total again: told apart by the request
    ]
    refs = [_ref(f"conf-key-{number}") for number in range(1, len(receipts) + 1)]
    issued = [
        await rig.driver.register(receipt, ref=ref)
        for receipt, ref in zip(receipts, refs, strict=True)
    ]
    assert [done.number for done in issued] == [1, 2, 3]
    for done, receipt, ref in zip(issued, receipts, refs, strict=True):
        document = await recovered(rig, ref, done.fd)
        assert (document.type, document.kind, document.total, document.doc_id) == (
            DocumentType.RECEIPT,
            ReceiptKind.SALE,
            receipt.total,
            done.doc_id,
        )
        assert document.payments == Payments(cash=receipt.total)
        entry = tape_entry(rig, ref.mark, done.fd)
        assert (entry["kind"], entry["total"]) == ("sale", _money(receipt.total))
    restarted = rig.new_driver()  # an agent started afresh finds them as well
    try:
        await restarted.connect()
        for done, receipt, ref in zip(issued, receipts, refs, strict=True):
            document = await recovered(rig, ref, done.fd, driver=restarted)
            assert (document.doc_id, document.payments) == (
                done.doc_id,
                Payments(cash=receipt.total),
            )
            if rig.has_fd_archive:  # SmartOne's /check_status names no kind and no total
                assert (document.kind, document.total) == (ReceiptKind.SALE, receipt.total)
    finally:
        await restarted.aclose()
    never = _ref("conf-key-never")
    if isinstance(rig.driver, FindsReceiptsByRequest):
        assert await rig.driver.find_receipt(never) is None
    else:
        with pytest.raises(DocumentNotFound):
            await rig.driver.read_document(issued[-1].fd + 1)
    assert marked(rig, never.mark) == []


async def test_settle_returns_at_once_after_a_finished_receipt(rig: Rig) -> None:
    """Nothing of a signed receipt can still run: settle(ref) answers right away."""
    await rig.driver.open_shift(CASHIER)
    ref = _ref("conf-settle")
    await rig.driver.register(goods_receipt((COFFEE, rig.rate)), ref=ref)
    started = time.monotonic()
    await rig.driver.settle(ref)
    await rig.driver.settle(_ref("conf-never-sent", attempt=3))
    assert time.monotonic() - started < 1.0


async def test_a_refused_receipt_leaves_nothing(rig: Rig) -> None:
    """The register refuses the receipt: a DeviceError, no document, no receipt left open;
    the next try (the same request) is signed once."""
    opened = await rig.driver.open_shift(CASHIER)
    rig.control.refuse_next(Operation.RECEIPT)
    with pytest.raises(DeviceError):
        await rig.driver.register(goods_receipt((COFFEE, rig.rate)), ref=_ref("conf-no"))
    state = await rig.driver.read_state()
    assert (state.last_fd, state.is_receipt_open) == (opened.fd, False)
    assert marked(rig, "conf-no") == []
    with pytest.raises(ReceiptNotOpen):
        await rig.driver.cancel_receipt()
    issued = await rig.driver.register(
        goods_receipt((COFFEE, rig.rate)), ref=_ref("conf-no", attempt=2)
    )
    if rig.has_fd_archive:
        assert issued.fd == opened.fd + 1
    assert tape_entry(rig, "conf-no", issued.fd)["total"] == _money(COFFEE)


@pytest.mark.parametrize(
    "after", [pytest.param(False, id="before"), pytest.param(True, id="after")]
)
async def test_power_cut_at_the_receipt(rig: Rig, after: bool) -> None:
    """Power lost as the receipt is signed: an error, then the register shows what happened.

    Before it ran: no document, nothing open; the next try prints. After it ran: one
    document (the next FD where there is an archive), found again with the request's mark:
    what recovery records instead of printing again.
    """
    opened = await rig.driver.open_shift(CASHIER)
    ref = _ref(f"conf-power-{after}")
    rig.control.power_cut(Operation.RECEIPT, after=after)
    with pytest.raises(LinkError):  # WAIT: no answer about the receipt, the line stops
        await rig.driver.register(goods_receipt((COFFEE, rig.rate)), ref=ref)
    rig.control.power_back()
    await rig.driver.settle(ref)
    ledger = await rig.driver.read_ledger()
    assert not ledger.is_receipt_open
    if after:
        if rig.has_fd_archive:
            assert ledger.last_fd == opened.fd + 1
        document = await recovered(rig, ref, ledger.last_fd)
        assert (document.mark, document.total) == (ref.mark, COFFEE)
        assert marked(rig, ref.mark) == [ref.mark]
        return
    if isinstance(rig.driver, FindsReceiptsByRequest):
        assert await rig.driver.find_receipt(ref) is None
    else:
        assert ledger.last_fd == opened.fd
    assert marked(rig, ref.mark) == []
    again = await rig.driver.register(
        goods_receipt((COFFEE, rig.rate)), ref=_ref(ref.id, attempt=2)
    )
    if rig.has_fd_archive:
        assert again.fd == opened.fd + 1
    assert marked(rig, ref.mark) == [ref.mark]
