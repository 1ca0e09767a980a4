"""SmartOne request and reply codecs on JSON vectors (docs/smartone-notes.md §5-§6).

The /sale vector is the notes' composed example (its tax percent aside: the 18 % rate is
the country profile's, so the lines here carry a rate the domain has today and the percent
is checked through RATE_HUNDREDTHS).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

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
from agent.domain.vat import RATE_HUNDREDTHS
from agent.drivers.errors import InvalidArgument
from agent.drivers.smartone import codec
from agent.drivers.smartone.replies import (
    MalformedReply,
    VatAmount,
    cash_reply,
    document_reply,
    info_reply,
    reply_status,
    shift_reply,
    shift_totals,
)


def _item(name: str, qty: int, price: int, vat: VatRate = VatRate.VAT20) -> Item:
    return Item(
        name=name,
        qty=Micros(qty),
        price=Kopecks(price),
        vat=vat,
        subject=PaymentSubject.SERVICE,
        method=PaymentMethod.FULL_SETTLEMENT,
    )


def _receipt(
    *items: Item,
    kind: ReceiptKind = ReceiptKind.SALE,
    payments: Payments | None = None,
    parent: str | None = None,
) -> Receipt:
    total = sum(item.amount for item in items)
    return Receipt(
        kind=kind,
        category=Category.SERVICE,
        tax_system=TaxSystem.OSN,
        items=items,
        payments=payments or Payments(cash=Kopecks(total)),
        cashier=Cashier(name="Aliyeva N."),
        parent_doc_id=parent,
    )


EXAMPLE = _receipt(
    _item("Balans artırılması", 1_000_000, 500),
    _item("Su 0,5", 2_000_000, 120),
    payments=Payments(cash=Kopecks(300), card=Kopecks(440)),
)


def test_sale_body_is_the_notes_composed_example() -> None:
    """documentExtID/docNumber = the key, AZN, amount = total, lines x1000, payments by type."""
    body = codec.receipt_request(EXAMPLE, key="crm-7d4c2e1a", employee_name=None)
    vat = RATE_HUNDREDTHS[VatRate.VAT20]
    expected = (
        '{"documentExtID":"crm-7d4c2e1a","docNumber":"crm-7d4c2e1a",'
        '"employeeName":"Aliyeva N.","currency":"AZN","amount":740,"items":['
        '{"itemName":"Balans artırılması","itemQty":1000,"itemPrice":500,"itemAmount":500,'
        f'"discount":0,"itemTaxes":[{{"taxName":"VAT","taxPrc":{vat}}}]}},'
        '{"itemName":"Su 0,5","itemQty":2000,"itemPrice":120,"itemAmount":240,'
        f'"discount":0,"itemTaxes":[{{"taxName":"VAT","taxPrc":{vat}}}]}}],'
        '"payments":{"cashAmount":300,"cashlessAmount":440,"otherAmount":0}}'
    )
    assert json.dumps(body, ensure_ascii=False, separators=(",", ":")) == expected
    assert codec.receipt_route(EXAMPLE) == "/sale"


def test_the_same_receipt_gives_the_same_bytes_every_time() -> None:
    """A resend is the very request the cashbox may have stored (no clock in the body)."""
    first = codec.receipt_request(EXAMPLE, key="k", employee_name="Kassir 1")
    again = codec.receipt_request(EXAMPLE, key="k", employee_name="Kassir 1")
    assert first == again
    assert first["employeeName"] == "Kassir 1"


def test_rates_without_vat_send_percent_zero_and_prepaid_goes_to_other_amount() -> None:
    """vat0 and none: taxPrc 0 named VAT; payments.prepaid -> otherAmount (a guess)."""
    receipt = _receipt(
        _item("a", 1_000_000, 100, VatRate.VAT0),
        _item("b", 1_000_000, 200, VatRate.NONE),
        payments=Payments(cash=Kopecks(50), prepaid=Kopecks(250)),
    )
    body = codec.receipt_request(receipt, key="k", employee_name=None)
    assert [line["itemTaxes"] for line in body["items"]] == [
        [{"taxName": "VAT", "taxPrc": 0}],
        [{"taxName": "VAT", "taxPrc": 0}],
    ]
    assert body["payments"] == {"cashAmount": 50, "cashlessAmount": 0, "otherAmount": 250}


def test_refund_names_its_sale_by_parent_doc_id_when_known() -> None:
    """/refund with parentDocID = the sale's fiscalID; without one, unlinked."""
    linked = _receipt(_item("x", 500_000, 1000), kind=ReceiptKind.REFUND, parent="Ab3dE5fG7hJk")
    body = codec.receipt_request(linked, key="r-1", employee_name=None)
    assert codec.receipt_route(linked) == "/refund"
    assert body["parentDocID"] == "Ab3dE5fG7hJk"
    assert body["items"][0]["itemQty"] == 500
    assert body["items"][0]["itemAmount"] == 500
    unlinked = _receipt(_item("x", 1_000_000, 1000), kind=ReceiptKind.REFUND)
    assert "parentDocID" not in codec.receipt_request(unlinked, key="r-2", employee_name=None)


def test_a_quantity_finer_than_a_thousandth_is_refused_before_sending() -> None:
    """0.0005 cannot be carried as x1000: InvalidArgument naming the line."""
    receipt = _receipt(_item("fine", 500, 100))
    with pytest.raises(InvalidArgument, match="'fine'"):
        codec.receipt_request(receipt, key="k", employee_name=None)


def test_cash_and_status_bodies() -> None:
    """Cash movements carry documentExtID and amount (> 0); check_status the key."""
    assert codec.cash_request("k", Kopecks(500), None) == {"documentExtID": "k", "amount": 500}
    assert codec.cash_request("k", Kopecks(5), "A")["employeeName"] == "A"
    with pytest.raises(InvalidArgument):
        codec.cash_request("k", Kopecks(0), None)
    assert codec.check_status_request("k") == {"documentExtID": "k"}
    assert codec.close_shift_request("A", None) == {"employeeName": "A"}
    assert codec.close_shift_request("A", "renew")["openOrdersOperation"] == "renew"


SALE_REPLY = json.loads(
    '{"status":"success","code":0,"documentID":1043,"documentExtID":"crm-7d4c2e1a",'
    '"fiscalID":"Ab3dE5fG7hJk","fiscalNum":"412","docTime":"2025-03-14 19:05:00",'
    '"printTime":"2025-03-14 19:05:07","docStatus":1,"printError":0,'
    '"totalPayments":[{"code":"cash","amount":300},{"code":"cashless","amount":440}],'
    '"currency_name":"AZN"}'
)


def test_sale_reply_vector() -> None:
    """The notes' composed reply: ids, times (naive wall clock), status, payments."""
    assert reply_status(SALE_REPLY) == (0, "")
    reply = document_reply(SALE_REPLY)
    assert (reply.document_id, reply.fiscal_id, reply.fiscal_num) == (1043, "Ab3dE5fG7hJk", "412")
    assert reply.print_time == datetime(2025, 3, 14, 19, 5, 7)  # noqa: DTZ001 - wall clock
    assert reply.is_closed
    assert reply.payments == (("cash", 300), ("cashless", 440))


def test_reply_status_of_errors() -> None:
    """code and message; status error without a code is malformed; a non-object too."""
    assert reply_status({"status": "error", "code": 27, "message": "cash"}) == (27, "cash")
    assert reply_status({"status": "success", "code": "0"}) == (0, "")
    with pytest.raises(MalformedReply):
        reply_status({"status": "error"})
    with pytest.raises(MalformedReply):
        reply_status([1, 2])


@pytest.mark.parametrize(
    ("flag", "is_open"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False)],
)
def test_check_shift_reads_is_shift_open_case_insensitively(flag: str, is_open: bool) -> None:
    """The new pages write "true", the old table "True": both are read."""
    reply = shift_reply(
        {
            "status": "success",
            "code": 0,
            "shiftID": 17,
            "isShiftOpen": flag,
            "shiftStatus": 1 if is_open else 2,
            "shiftOpenAt": "2025-03-14 09:10:00",
            "cash": 12500,
        }
    )
    assert reply.is_open is is_open
    assert (reply.shift_id, reply.cash) == (17, 12500)
    assert reply.open_at == datetime(2025, 3, 14, 9, 10)  # noqa: DTZ001 - wall clock


def test_check_shift_refuses_a_flag_it_cannot_read() -> None:
    """Neither true nor false: malformed, never guessed."""
    with pytest.raises(MalformedReply, match="isShiftOpen"):
        shift_reply({"isShiftOpen": "maybe"})


X_REPORT = {
    "status": "success",
    "code": 0,
    "shiftID": 17,
    "shiftOpenAt": "2025-03-14 09:10",
    "cash": 8000,
    "saleCount": 3,
    "saleSum": 1740,
    "saleCashSum": 1300,
    "saleCashlessSum": 440,
    "saleCreditSum": 0,
    "saleVatAmounts": [{"vatPercent": 2000, "vatAmount": 290}, {"vatPercent": 0, "vatAmount": 0}],
    "depositCount": 1,
    "depositSum": 10000,
    "withdrawCount": 1,
    "withdrawSum": 3300,
    "moneyBackCount": 1,
    "moneyBackSum": 500,
    "moneyBackCashSum": 500,
    "moneyBackCashlessSum": 0,
    "moneyBackVatAmounts": [{"vatPercent": "20", "vatAmount": 83}],
}


def test_x_report_vector() -> None:
    """Counters by name; a missing one is 0; vatPercent x100 or plain percent both read."""
    totals = shift_totals(X_REPORT)
    assert totals.shift_id == 17
    assert totals.open_at == datetime(2025, 3, 14, 9, 10)  # noqa: DTZ001 - wall clock
    assert (totals.sale_count, totals.sale_cash_sum, totals.sale_cashless_sum) == (3, 1300, 440)
    assert (totals.deposit_sum, totals.withdraw_sum, totals.cash) == (10000, 3300, 8000)
    assert totals.sale_vat == (VatAmount(percent=2000, amount=290), VatAmount(percent=0, amount=0))
    assert totals.money_back_vat == (VatAmount(percent=2000, amount=83),)


def test_cash_and_info_replies() -> None:
    """Cash movement ids; get_info's serial from the first known key, else None."""
    reply = cash_reply({"documentID": 7, "fiscalID": "F", "fiscalNum": "9", "cash": 100})
    assert (reply.document_id, reply.fiscal_num, reply.cash) == (7, "9", 100)
    assert info_reply({"serialNumber": "AZ123"}).serial == "AZ123"
    assert info_reply({"status": "success"}).serial is None
