"""Outbox codec: receipts and cash orders round-trip through JSON; bad documents raise."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from agent.outbox.codec import (
    CashDirection,
    CashOrder,
    CodecError,
    cash_from_json,
    cash_to_json,
    receipt_from_json,
    receipt_to_json,
)

kopecks = st.integers(min_value=0, max_value=2**40).map(Kopecks)
text = st.text(max_size=40)

items = st.builds(
    Item,
    name=text,
    qty=st.integers(min_value=1, max_value=10**12).map(Micros),
    price=kopecks,
    vat=st.sampled_from(VatRate),
    subject=st.sampled_from(PaymentSubject),
    method=st.sampled_from(PaymentMethod),
)
receipts = st.builds(
    Receipt,
    kind=st.sampled_from(ReceiptKind),
    category=st.sampled_from(Category),
    tax_system=st.none() | st.sampled_from(list(TaxSystem)),  # None: a receipt of AZ
    items=st.lists(items, max_size=5).map(tuple),
    payments=st.builds(Payments, cash=kopecks, card=kopecks, prepaid=kopecks),
    cashier=st.builds(Cashier, name=text, inn=st.none() | st.from_regex(r"\A\d{12}\Z")),
    customer_contact=st.none() | text,
)
cash_orders = st.builds(
    CashOrder, direction=st.sampled_from(CashDirection), amount=kopecks, comment=text
)


@given(receipts)
def test_codec_receipt_roundtrip(receipt: Receipt) -> None:
    """Any receipt decodes to an equal receipt."""
    assert receipt_from_json(receipt_to_json(receipt)) == receipt


@given(cash_orders)
def test_codec_cash_roundtrip(order: CashOrder) -> None:
    """Any cash order decodes to an equal cash order."""
    assert cash_from_json(cash_to_json(order)) == order


SAMPLE = Receipt(
    kind=ReceiptKind.SALE,
    category=Category.TOP_UP,
    tax_system=TaxSystem.USN_INCOME,
    items=(
        Item(
            name="Пополнение",
            qty=Micros(1_000_000),
            price=Kopecks(50000),
            vat=VatRate.VAT22_122,
            subject=PaymentSubject.PAYMENT,
            method=PaymentMethod.ADVANCE,
        ),
    ),
    payments=Payments(card=Kopecks(50000)),
    cashier=Cashier(name="Иванов"),
    customer_contact="a@example.com",
)


def test_codec_receipt_format_is_pinned() -> None:
    """Stored rows outlive versions: money in kopecks, quantities in micros, enums by name."""
    assert json.loads(receipt_to_json(SAMPLE)) == {
        "v": 1,
        "kind": "SALE",
        "category": "TOP_UP",
        "tax_system": "USN_INCOME",
        "items": [
            {
                "name": "Пополнение",
                "qty": 1_000_000,
                "price": 50000,
                "vat": "VAT22_122",
                "subject": "PAYMENT",
                "method": "ADVANCE",
            }
        ],
        "payments": {"cash": 0, "card": 50000, "prepaid": 0},
        "cashier": {"name": "Иванов", "inn": None},
        "customer_contact": "a@example.com",
    }


def test_codec_cash_format_is_pinned() -> None:
    """A cash order stores direction by name and amount in kopecks."""
    order = CashOrder(direction=CashDirection.OUT, amount=Kopecks(120000), comment="инкассация")
    assert json.loads(cash_to_json(order)) == {
        "v": 1,
        "direction": "OUT",
        "amount": 120000,
        "comment": "инкассация",
    }


def test_codec_receipt_rejects_combined_tax_flags() -> None:
    """A receipt carries exactly one tax system; a combination is a programming error."""
    bad = Receipt(
        kind=SAMPLE.kind,
        category=SAMPLE.category,
        tax_system=TaxSystem.OSN | TaxSystem.PATENT,
        items=SAMPLE.items,
        payments=SAMPLE.payments,
        cashier=SAMPLE.cashier,
    )
    with pytest.raises(ValueError, match="one tax system"):
        receipt_to_json(bad)


def _sample_doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads(receipt_to_json(SAMPLE))
    return doc


def _mutated(path: tuple[str | int, ...], value: object) -> str:
    doc = _sample_doc()
    target: object = doc
    for part in path[:-1]:
        target = target[part]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    return json.dumps(doc)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("[]", id="not-object"),
        pytest.param(_mutated(("v",), 2), id="unknown-version"),
        pytest.param(_mutated(("kind",), "PURCHASE"), id="bad-enum"),
        pytest.param(_mutated(("kind",), 1), id="enum-by-value"),
        pytest.param(_mutated(("tax_system",), "ENVD"), id="bad-tax"),
        pytest.param(_mutated(("items", 0, "price"), 500.0), id="float-money"),
        pytest.param(_mutated(("items", 0, "qty"), value=True), id="bool-qty"),
        pytest.param(_mutated(("payments", "cash"), "0"), id="string-money"),
        pytest.param(_mutated(("cashier", "name"), None), id="null-name"),
        pytest.param(_mutated(("items",), {}), id="items-not-list"),
        pytest.param(_mutated(("items", 0), "x"), id="item-not-object"),
        pytest.param(json.dumps({"v": 1}), id="missing-keys"),
    ],
)
def test_codec_receipt_malformed_raises(stored: str) -> None:
    """A damaged stored receipt raises CodecError instead of becoming another receipt."""
    with pytest.raises(CodecError, match="receipt"):
        receipt_from_json(stored)


@pytest.mark.parametrize(
    "stored",
    [
        '{"v": 1, "direction": "SIDEWAYS", "amount": 1, "comment": ""}',
        '{"v": 1, "direction": "IN", "amount": "1", "comment": ""}',
        '{"v": 1, "direction": "IN", "amount": 1}',
        '{"v": 9, "direction": "IN", "amount": 1, "comment": ""}',
    ],
)
def test_codec_cash_malformed_raises(stored: str) -> None:
    """A damaged stored cash order raises CodecError."""
    with pytest.raises(CodecError, match="cash order"):
        cash_from_json(stored)
