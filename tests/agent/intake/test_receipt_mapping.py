"""Contract ↔ domain mapping: categories, rule errors by request path, QR, results."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import agent.domain.rules
from agent.config import AgentConfig, CashierConfig, RegisterConfig, TaxConfig
from agent.contract import CashCommand, ErrorBody, ReceiptRequest
from agent.domain.country import AZ
from agent.domain.errors import ReceiptRuleError
from agent.domain.money import Kopecks
from agent.domain.receipt import (
    Category,
    PaymentMethod,
    PaymentSubject,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.intake.receipt_mapping import (
    cash_to_domain,
    fiscal_to_contract,
    qr_string,
    receipt_to_domain,
    row_to_outcome,
    row_to_result,
)
from agent.outbox.orders import CashDirection, CashOrder, FiscalRecord
from agent.outbox.states import RowKind, RowState
from agent.outbox.store import OutboxRow

MSK = timezone(timedelta(hours=3))
CONFIG = AgentConfig(
    club="club-1",
    agent="desk-1",
    state_dir=Path("/tmp/unused"),  # noqa: S108 - never opened
    register=RegisterConfig(url="/dev/null"),
    tax=TaxConfig(top_up="usn_income", service="osn", goods="patent"),
    cashier=CashierConfig(name="Администратор", inn="500100732259"),
)


def _item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"name": "Кофе", "qty": "1", "price": "150.00", "vat": "none"}
    item.update(overrides)
    return item


def _request(**overrides: Any) -> ReceiptRequest:
    body: dict[str, Any] = {
        "id": "crm-1",
        "kind": "sale",
        "category": "goods",
        "items": [_item()],
        "payments": {"cash": "150.00"},
    }
    body.update(overrides)
    return ReceiptRequest.model_validate(body)


# -- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "vat", "subject", "method", "tax"),
    [
        (
            "top_up",
            "vat22_122",
            PaymentSubject.PAYMENT,
            PaymentMethod.ADVANCE,
            TaxSystem.USN_INCOME,
        ),
        ("service", "vat22", PaymentSubject.SERVICE, PaymentMethod.FULL_SETTLEMENT, TaxSystem.OSN),
        (
            "goods",
            "vat22",
            PaymentSubject.COMMODITY,
            PaymentMethod.FULL_SETTLEMENT,
            TaxSystem.PATENT,
        ),
    ],
)
def test_mapping_category_table(
    category: str, vat: str, subject: PaymentSubject, method: PaymentMethod, tax: TaxSystem
) -> None:
    """top_up → advance + payment; service → full settlement + service; goods → commodity."""
    receipt = receipt_to_domain(_request(category=category, items=[_item(vat=vat)]), config=CONFIG)
    assert receipt.category is Category(category)
    assert (receipt.items[0].subject, receipt.items[0].method) == (subject, method)
    assert receipt.tax_system is tax


def test_mapping_item_subject_overrides_category_default() -> None:
    """An item's subject replaces the category's subject, not its method."""
    receipt = receipt_to_domain(
        _request(category="service", items=[_item(subject="deposit")]), config=CONFIG
    )
    assert receipt.items[0].subject is PaymentSubject.DEPOSIT
    assert receipt.items[0].method is PaymentMethod.FULL_SETTLEMENT


def test_mapping_values_are_exact() -> None:
    """Money to kopecks, quantities to millionths, VAT and kind by name; change from cash."""
    receipt = receipt_to_domain(
        _request(
            items=[_item(qty="0.5", price="89.90", vat="vat10"), _item(qty="3")],
            payments={"cash": "500", "card": "0.05", "prepaid": "10.00"},
        ),
        config=CONFIG,
    )
    first = receipt.items[0]
    assert (first.qty, first.price, first.vat) == (500_000, 8990, VatRate.VAT10)
    assert receipt.kind is ReceiptKind.SALE
    assert (receipt.payments.cash, receipt.payments.card, receipt.payments.prepaid) == (
        50000,
        5,
        1000,
    )
    assert receipt.total == 4495 + 45000
    assert receipt.change == 50000 + 5 + 1000 - receipt.total


def test_mapping_refund_of_a_top_up() -> None:
    """A refund of unused balance: sign 2, advance method, payment subject, calculated rate."""
    receipt = receipt_to_domain(
        _request(kind="refund", category="top_up", items=[_item(vat="vat22_122")]),
        config=CONFIG,
    )
    assert receipt.kind is ReceiptKind.REFUND
    (item,) = receipt.items
    assert (item.vat, item.method, item.subject) == (
        VatRate.VAT22_122,
        PaymentMethod.ADVANCE,
        PaymentSubject.PAYMENT,
    )


def test_mapping_rates_in_force_follow_the_receipts_day() -> None:
    """vat20 is a rate of 2025; from 1 January 2026 it is refused in favour of vat22."""
    request = _request(items=[_item(vat="vat20")])
    last_day = receipt_to_domain(request, config=CONFIG, on=date(2025, 12, 31))
    assert last_day.items[0].vat is VatRate.VAT20
    with pytest.raises(ReceiptRuleError) as info:
        receipt_to_domain(request, config=CONFIG, on=date(2026, 1, 1))
    assert info.value.code == "vat_rate_retired"
    assert "vat22" in str(info.value)


def test_mapping_cashier_falls_back_to_config() -> None:
    """Without a cashier in the request the configured one signs; a given one wins."""
    assert receipt_to_domain(_request(), config=CONFIG).cashier.name == "Администратор"
    given = receipt_to_domain(_request(cashier={"name": "Иванов"}), config=CONFIG).cashier
    assert (given.name, given.inn) == ("Иванов", None)


@pytest.mark.parametrize(
    ("customer", "contact"),
    [
        ({"email": "guest@example.com"}, "guest@example.com"),
        ({"phone": "+7 (900) 123-45-67"}, "+79001234567"),
        ({"email": "guest@example.com", "phone": "+79001234567"}, "guest@example.com"),
        ({}, None),
    ],
)
def test_mapping_customer_contact(customer: dict[str, str], contact: str | None) -> None:
    """E-mail first, else the phone without separators, goes to tag 1008."""
    receipt = receipt_to_domain(_request(customer=customer), config=CONFIG)
    assert receipt.customer_contact == contact


# -- every rule error through a request -------------------------------------------------------

RULE_CASES = [
    pytest.param({"items": []}, "no_items", "items", id="no_items"),
    pytest.param(
        {"items": [_item()] * 101, "payments": {"cash": "15150.00"}},
        "too_many_items",
        "items",
        id="too_many_items",
    ),
    pytest.param({"items": [_item(name=" ")]}, "bad_item_name", "items.0.name", id="name-blank"),
    pytest.param(
        {"items": [_item(), _item(name="x" * 129)], "payments": {"cash": "300.00"}},
        "bad_item_name",
        "items.1.name",
        id="name-long",
    ),
    pytest.param({"items": [_item(name="Кофе ☕")]}, "bad_item_name", "items.0.name", id="cp1251"),
    pytest.param(
        {"items": [_item(price="20000000000.00")], "payments": {"cash": "20000000000.00"}},
        "amount_out_of_range",
        "items.0.price",
        id="price-range",
    ),
    pytest.param(
        {"payments": {"cash": "150.00", "card": "20000000000.00"}},
        "amount_out_of_range",
        "payments.card",
        id="payment-range",
    ),
    pytest.param(
        {"category": "top_up", "items": [_item(vat="vat22")]},
        "vat_rate_not_allowed",
        "items.0.vat",
        id="vat-advance",
    ),
    pytest.param(
        {"items": [_item(vat="vat22_122")]},
        "vat_rate_not_allowed",
        "items.0.vat",
        id="vat-calculated-on-full-settlement",
    ),
    pytest.param(
        {"items": [_item(vat="vat20")]}, "vat_rate_retired", "items.0.vat", id="vat20-in-2026"
    ),
    pytest.param(
        {"category": "top_up", "items": [_item(vat="vat22_122", subject="commodity")]},
        "subject_not_allowed",
        "items.0.subject",
        id="advance-subject",
    ),
    pytest.param(
        {
            "category": "top_up",
            "items": [_item(vat="vat22_122")],
            "payments": {"prepaid": "150.00"},
        },
        "prepaid_advance",
        "payments.prepaid",
        id="top-up-from-balance",
    ),
    pytest.param(
        {"kind": "refund", "payments": {"cash": "200.00"}},
        "refund_with_change",
        "payments",
        id="refund-with-change",
    ),
    pytest.param(
        {"items": [_item(price="0.00")], "payments": {}}, "zero_total", "items", id="zero_total"
    ),
    pytest.param(
        {"payments": {"card": "100.00", "prepaid": "100.00"}},
        "non_cash_above_total",
        "payments",
        id="non_cash_above_total",
    ),
    pytest.param(
        {"payments": {"cash": "149.99"}},
        "payments_below_total",
        "payments",
        id="payments_below_total",
    ),
    pytest.param(
        {"customer": {"email": "not-an-email"}},
        "bad_customer_contact",
        "customer.email",
        id="contact-email",
    ),
    pytest.param(
        {"customer": {"phone": "8 900 123"}},
        "bad_customer_contact",
        "customer.phone",
        id="contact-phone",
    ),
    pytest.param({"cashier": {"name": "  "}}, "bad_cashier", "cashier.name", id="cashier-name"),
    pytest.param(
        {"cashier": {"name": "Иванов", "inn": "123"}}, "bad_cashier", "cashier.inn", id="inn"
    ),
    pytest.param(
        {"items": [_item(vat="vat18")]}, "vat_rate_not_in_country", "items.0.vat", id="vat18-ru"
    ),
]

AZ_CASHIER: dict[str, Any] = {"name": "Aliyeva N."}
AZ_RULE_CASES = [
    pytest.param(
        {"items": [_item(vat="vat22")], "cashier": AZ_CASHIER},
        "vat_rate_not_in_country",
        "items.0.vat",
        id="vat22-az",
    ),
    pytest.param(
        {"cashier": {"name": "Aliyeva N.", "inn": "500100732259"}},
        "requisite_not_in_country",
        "cashier.inn",
        id="inn-az",
    ),
    pytest.param(
        {"items": [_item(subject="commodity")], "cashier": AZ_CASHIER},
        "requisite_not_in_country",
        "items.0.subject",
        id="subject-az",
    ),
]


@pytest.mark.parametrize(("overrides", "code", "field"), RULE_CASES)
def test_mapping_rule_errors_name_the_request_field(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    """Each rule error is reachable from a request, and its field is the request's path."""
    req = _request(**overrides)
    with pytest.raises(ReceiptRuleError) as info:
        receipt_to_domain(req, config=CONFIG)
    assert (info.value.code, info.value.field) == (code, field)
    node: Any = req.model_dump()
    for part in field.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]


@pytest.mark.parametrize(("overrides", "code", "field"), AZ_RULE_CASES)
def test_mapping_rule_errors_of_azerbaijan(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    """The country's own refusals in AZ, at the request's path too."""
    req = _request(**overrides)
    with pytest.raises(ReceiptRuleError) as info:
        receipt_to_domain(req, config=CONFIG, country=AZ)
    assert (info.value.code, info.value.field) == (code, field)
    node: Any = req.model_dump()
    for part in field.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]


def test_mapping_azerbaijan_receipt() -> None:
    """An AZ top-up at 18 % maps with an Azerbaijani name; the config's country is the default."""
    req = _request(
        category="top_up",
        items=[_item(name="Balans artırılması", vat="vat18", price="5.00")],
        payments={"cash": "5.00"},
        cashier=AZ_CASHIER,
        customer={"phone": "+994 50 123 45 67"},
    )
    receipt = receipt_to_domain(req, config=CONFIG, country=AZ)
    assert receipt.items[0].vat is VatRate.VAT18
    assert receipt.customer_contact == "+994501234567"
    assert receipt.tax_system is TaxSystem.USN_INCOME  # CONFIG has [tax]; an AZ config has none
    no_tax = CONFIG.model_copy(update={"tax": None})  # as an AZ config is (validated elsewhere)
    assert receipt_to_domain(req, config=no_tax, country=AZ).tax_system is None
    in_russia = req.model_copy(
        update={"items": [req.items[0].model_copy(update={"name": "Top-up"})]}
    )
    with pytest.raises(ReceiptRuleError) as info:  # CONFIG is Russian: vat18 is no rate there
        receipt_to_domain(in_russia, config=CONFIG)
    assert info.value.code == "vat_rate_not_in_country"


def test_mapping_bad_quantity_is_refused_by_the_contract_first() -> None:
    """bad_quantity (qty ≤ 0) cannot reach the rules: the contract refuses it at the same path."""
    with pytest.raises(ValidationError) as info:
        _request(items=[_item(qty="0")])
    assert ErrorBody.from_validation_error(info.value).error.field == "items.0.qty"


def test_mapping_covers_every_rule_code() -> None:
    """The table above reaches every code rules.py can raise (bad_quantity via the contract)."""
    codes = set(re.findall(r'ReceiptRuleError\(\s*"(\w+)"', inspect.getsource(agent.domain.rules)))
    covered = {case.values[1] for case in RULE_CASES + AZ_RULE_CASES} | {"bad_quantity"}
    assert codes
    assert codes == covered


# -- cash, QR, results ------------------------------------------------------------------------


def test_mapping_cash_to_domain() -> None:
    """A cash command becomes a cash order in kopecks."""
    order = cash_to_domain(
        CashCommand(id="c-1", direction="out", amount=Decimal("12000.50"), comment="инкассация")
    )
    assert order == CashOrder(
        direction=CashDirection.OUT, amount=Kopecks(1200050), comment="инкассация"
    )


def _record(
    fn: str, fd: int, fp: int, at: datetime, total: int, *, shift: int = 1, number: int = 1
) -> FiscalRecord:
    return FiscalRecord(
        fn=fn,
        fd=fd,
        fp=fp,
        shift=shift,
        number=number,
        issued_at=at,
        total=Kopecks(total),
        change=Kopecks(0),
    )


def test_qr_matches_the_public_example() -> None:
    """docs/fiscal-law-notes.md §8.3: t=20190418T211655&s=3943.26&fn=9282000100072197&i=64318&fp=...&n=1.

    Our t= is the 13-character form (no seconds); every other field is byte for byte.
    """
    public = "t=20190418T211655&s=3943.26&fn=9282000100072197&i=64318&fp=2918241905&n=1"
    record = _record(
        "9282000100072197", 64318, 2918241905, datetime(2019, 4, 18, 21, 16, 55, tzinfo=MSK), 394326
    )
    assert qr_string(record, ReceiptKind.SALE) == public.replace("T211655", "T2116")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            _record(
                "9289000100346765",
                97660,
                4179925410,
                datetime(2020, 5, 18, 15, 52, tzinfo=MSK),
                53182,
            ),
            "t=20200518T1552&s=531.82&fn=9289000100346765&i=97660&fp=4179925410&n=1",
        ),
        (
            _record(
                "9286000100071678",
                90633,
                2272512458,
                datetime(2020, 1, 21, 12, 26, tzinfo=MSK),
                4250,
            ),
            "t=20200121T1226&s=42.50&fn=9286000100071678&i=90633&fp=2272512458&n=1",
        ),
        (
            _record(
                "9282440300479231", 372, 205537033, datetime(2020, 1, 22, 20, 57, tzinfo=MSK), 83950
            ),
            "t=20200122T2057&s=839.50&fn=9282440300479231&i=372&fp=205537033&n=1",
        ),
    ],
)
def test_qr_public_triples(record: FiscalRecord, expected: str) -> None:
    """The public FN/FD/FPD triples of docs/fiscal-law-notes.md §8.3 give their QR strings."""
    assert qr_string(record, ReceiptKind.SALE) == expected


def test_qr_refund_and_register_wall_clock() -> None:
    """A refund is n=2; t= is the register's local time, not UTC."""
    at = datetime(2026, 1, 5, 23, 30, tzinfo=MSK)  # 20:30 UTC
    qr = qr_string(_record("1", 2, 3, at, 100), ReceiptKind.REFUND)
    assert qr == "t=20260105T2330&s=1.00&fn=1&i=2&fp=3&n=2"


def test_fiscal_to_contract() -> None:
    """The fiscal record becomes the contract's fiscal object with total and QR."""
    record = _record(
        "9289000100346765",
        97660,
        4179925410,
        datetime(2026, 1, 5, 15, 52, tzinfo=MSK),
        53182,
        shift=12,
        number=7,
    )
    fiscal = fiscal_to_contract(record, ReceiptKind.SALE)
    assert (fiscal.fn, fiscal.fd, fiscal.fp, fiscal.shift, fiscal.number) == (
        "9289000100346765",
        97660,
        4179925410,
        12,
        7,
    )
    assert fiscal.total == Decimal("531.82")
    assert fiscal.issued_at == record.issued_at
    assert fiscal.qr == qr_string(record, ReceiptKind.SALE)
    assert fiscal.doc_id == "9289000100346765:97660"


def test_fiscal_to_contract_with_the_registers_own_doc_id() -> None:
    """A SmartOne document: doc_id is its fiscalID, and there is no OFD check string."""
    record = replace(
        _record("SO-1234", 412, 0, datetime(2026, 1, 5, 15, 52, tzinfo=MSK), 740),
        doc_id="Ab3dE5fG7hJk",
    )
    fiscal = fiscal_to_contract(record, ReceiptKind.SALE)
    assert (fiscal.doc_id, fiscal.qr, fiscal.fp, fiscal.fd) == ("Ab3dE5fG7hJk", None, None, 412)
    assert "qr" not in fiscal.model_dump(exclude_none=True)


def _row(state: RowState, **overrides: Any) -> OutboxRow:
    fields: dict[str, Any] = {
        "id": "crm-1",
        "kind": RowKind.RECEIPT,
        "state": state,
        "receipt": receipt_to_domain(_request(), config=CONFIG),
        "cash": None,
        "fingerprint": "f",
        "accepted_at": datetime(2026, 1, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 5, tzinfo=UTC),
        "attempts": 0,
        "fn_serial": None,
        "last_fd_before": None,
        "drawer_before": None,
        "fiscal": None,
        "error_code": None,
        "error_message": None,
        "delivered_at": None,
    }
    fields.update(overrides)
    return OutboxRow(**fields)


def test_row_to_result_done() -> None:
    """A done receipt carries its fiscal object and no error."""
    record = _record("9289000100346765", 5, 6, datetime(2026, 1, 5, 12, 0, tzinfo=MSK), 15000)
    result = row_to_result(_row(RowState.DONE, fiscal=record))
    assert result.status == "done"
    assert result.fiscal is not None
    assert result.fiscal.qr.endswith("&n=1")
    assert result.error is None


@pytest.mark.parametrize(
    ("state", "code", "status"),
    [
        (RowState.REJECTED, "payments_below_total", "rejected"),
        (RowState.FAILED, "retries_exhausted", "failed"),
        (RowState.UNKNOWN, "outcome_unknown", "unknown"),
        (RowState.PENDING, "paper_out", "pending"),
    ],
)
def test_row_to_result_with_error(state: RowState, code: str, status: str) -> None:
    """Rejected, failed, unknown (and a waiting row's last error) carry code and message."""
    result = row_to_result(_row(state, error_code=code, error_message="why"))
    assert result.status == status
    assert result.fiscal is None
    assert result.error is not None
    assert (result.error.code, result.error.message) == (code, "why")


def test_row_to_result_pending_plain() -> None:
    """A fresh pending row is just its id and status."""
    result = row_to_result(_row(RowState.PENDING))
    assert result.model_dump(exclude_none=True) == {"id": "crm-1", "status": "pending"}


def test_row_to_outcome_for_cash_rows() -> None:
    """A cash row's outcome has no fiscal object; a receipt row is not a command."""
    order = CashOrder(direction=CashDirection.IN, amount=Kopecks(100))
    cash = _row(
        RowState.REJECTED,
        kind=RowKind.CASH,
        receipt=None,
        cash=order,
        error_code="not_enough_cash",
        error_message="drawer",
    )
    outcome = row_to_outcome(cash)
    assert outcome.status == "rejected"
    assert outcome.error is not None
    assert outcome.error.code == "not_enough_cash"
    assert row_to_result(cash).fiscal is None
    with pytest.raises(ValueError, match="not a command"):
        row_to_outcome(_row(RowState.DONE))
