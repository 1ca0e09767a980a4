"""The receipt -> ATOL JSON task codec, against the example of docs/atol-driver.md §3."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from agent.domain.country import RU
from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    Cashier,
    Category,
    Correction,
    CorrectionType,
    Item,
    PaymentMethod,
    Payments,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.drivers.atol.codec.tasks import (
    VAT_TYPES,
    cash_task,
    fn_document_task,
    receipt_task,
    roubles,
    shift_task,
)
from agent.drivers.atol.params import receipt_task_uuid

# The reference's example sale (docs/atol-driver.md §3.3): a top-up without VAT and two
# bottles of water at 22 %, paid 300.00 in cash and 440.00 by card.
EXAMPLE = Receipt(
    kind=ReceiptKind.SALE,
    category=Category.GOODS,
    tax_system=TaxSystem.USN_INCOME,
    items=(
        Item(
            name="Пополнение баланса",
            qty=Micros(1_000_000),
            price=Kopecks(50000),
            vat=VatRate.NONE,
            subject=PaymentSubject.SERVICE,
            method=PaymentMethod.FULL_SETTLEMENT,
        ),
        Item(
            name="Вода 0,5",
            qty=Micros(2_000_000),
            price=Kopecks(12000),
            vat=VatRate.VAT22,
            subject=PaymentSubject.COMMODITY,
            method=PaymentMethod.FULL_SETTLEMENT,
        ),
    ),
    payments=Payments(cash=Kopecks(30000), card=Kopecks(44000)),
    cashier=Cashier(name="Петрова А."),
)

EXAMPLE_TASK = json.loads(
    """{"type":"sell","taxationType":"usnIncome","electronically":false,
  "operator":{"name":"Петрова А."},
  "items":[{"type":"position","name":"Пополнение баланса","price":500.0,"quantity":1,"amount":500.0,
            "paymentMethod":"fullPayment","paymentObject":"service","tax":{"type":"none"}},
           {"type":"position","name":"Вода 0,5","price":120.0,"quantity":2,"amount":240.0,
            "paymentMethod":"fullPayment","paymentObject":"commodity","tax":{"type":"vat22"}},
           {"type":"userAttribute","name":"CRM ID","value":"crm-740","print":true}],
  "payments":[{"type":"cash","sum":300.0},{"type":"electronically","sum":440.0}],
  "total":740.0}"""
)


def test_the_reference_example_with_the_mark_as_user_attribute() -> None:
    assert receipt_task(EXAMPLE, mark="crm-740") == EXAMPLE_TASK


def test_the_task_is_json_as_the_server_takes_it() -> None:
    text = json.dumps(receipt_task(EXAMPLE, mark="crm-740"), ensure_ascii=False)
    assert '"price": 500.0' in text
    assert '"quantity": 2.0' in text


def test_refund_is_sell_return_and_prepaid_and_contact_go_along() -> None:
    refund = dataclasses.replace(
        EXAMPLE,
        kind=ReceiptKind.REFUND,
        payments=Payments(prepaid=Kopecks(74000)),
        customer_contact="+79990001122",
    )
    task = receipt_task(refund, mark="crm-r")
    assert task["type"] == "sellReturn"
    assert task["payments"] == [{"type": "prepaid", "sum": 740.0}]
    assert task["clientInfo"] == {"emailOrPhone": "+79990001122"}


def test_cashier_inn_is_the_operator_vatin() -> None:
    receipt = dataclasses.replace(EXAMPLE, cashier=Cashier(name="Иванов", inn="500100732259"))
    assert receipt_task(receipt, mark="m")["operator"] == {
        "name": "Иванов",
        "vatin": "500100732259",
    }


def test_correction_receipt_is_sell_correction_with_its_basis_date() -> None:
    late = dataclasses.replace(
        EXAMPLE, correction=Correction(type=CorrectionType.SELF, settled_on=date(2026, 11, 20))
    )
    task = receipt_task(late, mark="m")
    assert task["type"] == "sellCorrection"
    assert task["correctionType"] == "self"
    assert task["correctionBaseDate"] == "2026.11.20"
    refund = dataclasses.replace(late, kind=ReceiptKind.REFUND)
    assert receipt_task(refund, mark="m")["type"] == "sellReturnCorrection"
    by_order = dataclasses.replace(
        late, correction=Correction(type=CorrectionType.BY_ORDER, settled_on=date(2026, 11, 20))
    )
    assert receipt_task(by_order, mark="m")["correctionType"] == "instruction"


def test_every_vat_rate_has_its_atol_name() -> None:
    """Every Russian rate has its ATOL name; Azerbaijan's vat18 has none."""
    assert set(VAT_TYPES) == set(RU.vat_rates)
    assert VatRate.VAT18 not in VAT_TYPES
    assert VAT_TYPES[VatRate.VAT22_122] == "vat122"
    assert VAT_TYPES[VatRate.VAT10_110] == "vat110"
    assert VAT_TYPES[VatRate.VAT20_120] == "vat120"
    assert VAT_TYPES[VatRate.VAT0] == "vat0"


def test_taxation_type_override_and_fractions() -> None:
    half = dataclasses.replace(
        EXAMPLE,
        items=(dataclasses.replace(EXAMPLE.items[1], qty=Micros(500_000), price=Kopecks(12001)),),
        payments=Payments(cash=Kopecks(10000)),
    )
    task = receipt_task(half, mark="m", taxation_type="patent")
    assert task["taxationType"] == "patent"
    assert task["items"][0]["quantity"] == 0.5
    assert task["items"][0]["price"] == 120.01
    assert task["items"][0]["amount"] == 60.01  # 60.005 rounded half up
    assert task["total"] == 60.01
    assert roubles(Kopecks(1)) == 0.01


def test_an_empty_mark_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="mark"):
        receipt_task(EXAMPLE, mark="")


def test_shift_cash_and_document_tasks() -> None:
    assert shift_task("openShift", Cashier(name="Петрова А.")) == {
        "type": "openShift",
        "operator": {"name": "Петрова А."},
    }
    assert shift_task("reportX") == {"type": "reportX"}
    assert cash_task("cashOut", Kopecks(150000)) == {"type": "cashOut", "cashSum": 1500.0}
    assert fn_document_task(412) == {
        "type": "getFnDocument",
        "fiscalDocumentNumber": 412,
        "withRawData": False,
    }
    with pytest.raises(ValueError):
        cash_task("cashIn", Kopecks(0))
    with pytest.raises(ValueError):
        shift_task("sell")


def test_one_uuid_per_attempt_stable_across_runs() -> None:
    first = receipt_task_uuid("crm-740", 1)
    assert first == receipt_task_uuid("crm-740", 1)
    assert first != receipt_task_uuid("crm-740", 2)
    assert first != receipt_task_uuid("crm-741", 1)
    # Pinned: a changed namespace would give a resend after an upgrade a new uuid.
    assert first == "405da746-eb89-554f-9f5a-6f416419f4a8"
