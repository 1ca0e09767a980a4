"""The SmartOne simulator's pure parts on fixed vectors: order checks, VAT, fiscalIDs, counters."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim.smartone.codes import SmartOneError
from firmware_sim.smartone.counters import shift_counters
from firmware_sim.smartone.orders import (
    DEFAULT_TAX_PERCENTS,
    check_refund,
    parse_order,
    vat_amounts,
)
from firmware_sim.smartone.records import DocumentRecord, Operation, fiscal_id

LINE: dict[str, Any] = {
    "itemId": "water05",
    "itemName": "Su 0,5",
    "itemQty": 2000,
    "itemAmount": 240,
    "itemTaxes": [{"taxName": "VAT", "taxPrc": 1800}],
}
TOPUP: dict[str, Any] = {
    "itemId": "topup",
    "itemName": "Balans artırılması",
    "itemQty": 1000,
    "itemAmount": 500,
    "itemTaxes": [{"taxName": "VAT", "taxPrc": 0}],
}


def _order(**fields: Any) -> dict[str, Any]:
    return {
        "documentExtID": "crm-7d4c2e1a",
        "amount": 740,
        "items": [TOPUP, LINE],
        "payments": {"cashAmount": 300, "cashlessAmount": 440, "otherAmount": 0},
    } | fields


def test_the_documented_example_order() -> None:
    order = parse_order(_order(), DEFAULT_TAX_PERCENTS)
    assert order.ext_id == "crm-7d4c2e1a"
    assert order.total == 740
    assert (order.cash, order.cashless, order.other, order.change) == (300, 440, 0, 0)
    assert [(line.key, line.qty, line.price, line.tax_prc) for line in order.lines] == [
        ("topup", 1000, 500, 0),
        ("water05", 2000, 120, 1800),
    ]
    assert vat_amounts(order.lines) == ((0, 0), (1800, 37))  # 240 * 18/118 = 36.6 -> 37


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        pytest.param({"items": []}, 3, id="no-items"),
        pytest.param({"items": [LINE | {"itemQty": 0}]}, 3, id="zero-qty"),
        pytest.param({"items": [LINE | {"itemAmount": "2.40"}]}, 3, id="decimal-amount"),
        pytest.param({"amount": 741}, 4, id="amount-not-the-sum"),
        pytest.param({"payments": {"cashAmount": 300, "cashlessAmount": 439}}, 8, id="underpaid"),
        pytest.param({"payments": {"cashlessAmount": 800}}, 11, id="change-from-card"),
        pytest.param(
            {"items": [LINE | {"itemTaxes": [{"taxPrc": 1000}]}], "amount": 240}, 12, id="10%"
        ),
        pytest.param({"documentExtID": ["x"]}, 3, id="ext-id-not-text"),
    ],
)
def test_order_refusals(fields: dict[str, Any], code: int) -> None:
    with pytest.raises(SmartOneError) as refused:
        parse_order(_order(**fields), DEFAULT_TAX_PERCENTS)
    assert refused.value.code == code


def test_change_comes_from_cash() -> None:
    order = parse_order(
        _order(amount=None, payments={"cashAmount": 1000, "cashlessAmount": 440}),
        DEFAULT_TAX_PERCENTS,
    )
    assert order.change == 700


def test_refund_lines_against_the_sale() -> None:
    refund = parse_order(_order(items=[LINE], amount=240, payments=None), DEFAULT_TAX_PERCENTS)
    check_refund(refund, {"water05": 2000}, {})
    with pytest.raises(SmartOneError) as missing:
        check_refund(refund, {"topup": 1000}, {})
    with pytest.raises(SmartOneError) as above:
        check_refund(refund, {"water05": 2000}, {"water05": 1000})
    assert missing.value.code == 18
    assert above.value.code == 19


def test_fiscal_ids_are_12_characters_stable_and_distinct() -> None:
    ids = [fiscal_id(n) for n in range(1, 20001)]
    assert fiscal_id(1) == ids[0]
    assert all(len(value) == 12 and value.isalnum() for value in ids)
    assert len(set(ids)) == len(ids)


def _record(op: Operation, document_id: int, **fields: Any) -> DocumentRecord:
    base: dict[str, Any] = {
        "document_id": document_id,
        "operation": op,
        "ext_id": f"x{document_id}",
        "shift": 1,
        "fd": None,
        "movement": None,
        "total": 0,
        "cash": 0,
        "cashless": 0,
        "other": 0,
        "change": 0,
        "vat": (),
        "lines": (),
        "parent_fiscal_id": None,
        "doc_time": "2026-12-01 10:00:00",
        "print_time": "2026-12-01 10:00:00",
        "print_error": 0,
        "reply": {},
    }
    return DocumentRecord(**(base | fields))


def test_shift_counters() -> None:
    counters = shift_counters(
        [
            _record(Operation.SALE, 1, total=740, cash=300, cashless=440, vat=((0, 0), (1800, 37))),
            _record(Operation.SALE, 2, total=11800, cash=11800, vat=((1800, 1800),)),
            _record(Operation.REFUND, 3, total=240, cash=240, vat=((1800, 37),)),
            _record(Operation.DEPOSIT, 4, total=1000, cash=1000),
            _record(Operation.WITHDRAW, 5, total=500, cash=500),
        ]
    )
    assert counters["saleCount"] == 2
    assert counters["saleSum"] == 12540
    assert counters["saleCashSum"] == 12100
    assert counters["saleCashlessSum"] == 440
    assert counters["saleVatAmounts"] == [
        {"vatPercent": 0, "vatAmount": 0},
        {"vatPercent": 1800, "vatAmount": 1837},
    ]
    assert counters["moneyBackCount"] == 1
    assert counters["moneyBackVatAmounts"] == [{"vatPercent": 1800, "vatAmount": 37}]
    assert (counters["depositCount"], counters["depositSum"]) == (1, 1000)
    assert (counters["withdrawCount"], counters["withdrawSum"]) == (1, 500)
