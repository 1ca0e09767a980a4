"""The pydantic models of docs/contract.md v1: examples, money, quantities, ids, strictness."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agent.contract import (
    CashCommand,
    CommandOutcome,
    ErrorBody,
    FiscalDocument,
    FiscalResult,
    Health,
    ReceiptRequest,
    ReceiptResult,
    ShiftCommand,
    ShiftReport,
    canonical_json,
    format_money,
    kopecks_to_money,
    money_to_kopecks,
    request_fingerprint,
)

MODELS_WITH_EXAMPLES: list[type[BaseModel]] = [
    ReceiptRequest,
    ReceiptResult,
    ShiftCommand,
    CashCommand,
    CommandOutcome,
    ShiftReport,
    Health,
    ErrorBody,
    FiscalDocument,
]


def _examples() -> list[Any]:
    params = []
    for model in MODELS_WITH_EXAMPLES:
        examples = model.model_json_schema()["examples"]
        params.extend(
            pytest.param(model, example, id=f"{model.__name__}-{index}")
            for index, example in enumerate(examples)
        )
    return params


def _receipt(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "crm-1",
        "kind": "sale",
        "category": "goods",
        "items": [{"name": "Кофе", "qty": "2", "price": "150.00", "vat": "vat22"}],
        "payments": {"cash": "300.00"},
    }
    body.update(overrides)
    return body


def _item(**overrides: Any) -> dict[str, Any]:
    item = {"name": "Кофе", "qty": "1", "price": "150.00", "vat": "vat22"}
    item.update(overrides)
    return item


def _error_field(exc: ValidationError) -> str | None:
    return ErrorBody.from_validation_error(exc).error.field


# -- examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "example"), _examples())
def test_examples_parse_and_roundtrip(model: type[BaseModel], example: dict[str, Any]) -> None:
    """Every example a model documents parses, and its JSON parses back to an equal model."""
    parsed = model.model_validate_json(json.dumps(example))
    again = model.model_validate_json(parsed.model_dump_json())
    assert again == parsed


@pytest.mark.parametrize("action", ["open", "close", "x_report", "sync_tape"])
def test_shift_command_contract_example(action: str) -> None:
    """docs/contract.md cmd/shift: {"id", "action": "open" | "close" | "x_report" | "sync_tape"}."""
    command = ShiftCommand.model_validate_json(f'{{"id": "shift-1", "action": "{action}"}}')
    assert (command.id, command.action) == ("shift-1", action)


def test_shift_command_id_optional_for_http() -> None:
    """POST /api/v1/shift takes {"action": ...} without an id."""
    assert ShiftCommand.model_validate_json('{"action": "x_report"}').id is None


@pytest.mark.parametrize("request_id", ["", "x" * 65, "has space", "тест"])
def test_shift_command_id_follows_the_receipt_id_rule(request_id: str) -> None:
    """The id is 1..64 printable ASCII characters, as a receipt's (v1.1: an idempotency key)."""
    with pytest.raises(ValidationError) as caught:
        ShiftCommand.model_validate({"id": request_id, "action": "close"})
    assert _error_field(caught.value) == "id"
    assert ShiftCommand.model_validate({"id": "x" * 64, "action": "close"}).id == "x" * 64


def test_shift_report_v1_1_fields_are_optional_and_round_trip() -> None:
    """cash_received, change and request_id: absent in a v1 report, kept as money strings."""
    example = ShiftReport.model_json_schema()["examples"][0]
    report = ShiftReport.model_validate(example)
    assert report.request_id == "shift-20260106-close"
    sales = report.counters.sales
    assert sales.cash_received is not None
    assert sales.change is not None
    assert sales.cash_received - sales.change == sales.cash
    wire = json.loads(report.model_dump_json())["counters"]["sales"]
    assert (wire["cash_received"], wire["change"]) == ("13750.00", "1250.00")
    v1 = json.loads(json.dumps(example))
    v1.pop("request_id")
    for sign in ("sales", "refunds"):
        v1["counters"][sign].pop("cash_received")
        v1["counters"][sign].pop("change")
    old = ShiftReport.model_validate(v1)
    assert (old.request_id, old.counters.sales.change, old.counters.sales.cash_received) == (
        None,
        None,
        None,
    )


def test_fiscal_document_contract_shape() -> None:
    """evt/document: fn, fd, doc_id, type, kind?, total?, shift, issued_at, mark?."""
    text = (
        '{"fn": "9289000100346765", "fd": 7, "doc_id": "9289000100346765:7", "type": "receipt",'
        ' "kind": "refund", "total": "10.50", "shift": 3, "issued_at": "2026-01-05T12:00:00+03:00",'
        ' "mark": "crm-1"}'
    )
    document = FiscalDocument.model_validate_json(text)
    assert (document.kind, document.total, document.mark) == ("refund", Decimal("10.50"), "crm-1")
    assert json.loads(document.model_dump_json())["total"] == "10.50"
    with pytest.raises(ValidationError):
        FiscalDocument.model_validate_json(text.replace("+03:00", ""))  # a time needs its offset


@pytest.mark.parametrize("direction", ["in", "out"])
def test_cash_command_contract_example(direction: str) -> None:
    """docs/contract.md cmd/cash: {"id", "direction": "in" | "out", "amount": "500.00", "comment"}."""
    text = f'{{"id": "c-1", "direction": "{direction}", "amount": "500.00", "comment": "..."}}'
    command = CashCommand.model_validate_json(text)
    assert command.amount == Decimal("500.00")
    assert command.direction == direction
    assert json.loads(command.model_dump_json())["amount"] == "500.00"


def test_command_outcome_contract_example() -> None:
    """docs/contract.md evt/command: {"id", "status", "error"}."""
    text = '{"id": "c-1", "status": "rejected", "error": {"code": "x", "message": "y"}}'
    outcome = CommandOutcome.model_validate_json(text)
    assert outcome.error is not None
    assert outcome.error.code == "x"


def test_health_last_will_parses() -> None:
    """The last will {"state": "offline"} is a valid Health on its own."""
    health = Health.model_validate_json('{"state": "offline"}')
    assert health.state == "offline"
    assert health.register is None


def test_health_serializes_register_under_its_contract_name() -> None:
    """The register part is "register" on the wire."""
    health = Health.model_validate({"state": "online", "register": {"link": "up"}})
    assert json.loads(health.model_dump_json(exclude_none=True)) == {
        "state": "online",
        "register": {"link": "up"},
    }


def test_receipt_request_full_contract_shape() -> None:
    """Every ReceiptRequest field of docs/contract.md, optional ones included, parses."""
    body = _receipt(
        category="service",
        items=[_item(subject="service"), _item(name="Чай", qty="0.5", vat="vat10_110")],
        payments={"cash": "100.00", "card": "50.00", "prepaid": "25.00"},
        customer={"email": "a@example.com", "phone": "+79001234567"},
        cashier={"name": "Иванов", "inn": "500100732259"},
    )
    req = ReceiptRequest.model_validate_json(json.dumps(body))
    assert req.items[1].qty == Decimal("0.5")
    assert req.customer is not None
    assert req.customer.phone == "+79001234567"
    assert req.cashier is not None
    assert req.cashier.inn == "500100732259"


def test_error_body_contract_shape() -> None:
    """Errors are {"error": {"code", "message", "field"?}}."""
    body = ErrorBody.of("id_conflict", "known id", "id")
    assert json.loads(body.model_dump_json()) == {
        "error": {"code": "id_conflict", "message": "known id", "field": "id"}
    }


# -- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("150", "150.00"), ("150.0", "150.00"), ("150.00", "150.00"), ("0", "0.00"), ("0.5", "0.50")],
)
def test_money_accepts_up_to_two_decimals(text: str, expected: str) -> None:
    """Money strings with 0..2 decimals parse and serialize with exactly two decimals."""
    req = ReceiptRequest.model_validate(_receipt(items=[_item(price=text)]))
    assert json.loads(req.model_dump_json())["items"][0]["price"] == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(150, id="json-int"),
        pytest.param(150.0, id="json-float"),
        pytest.param(True, id="json-bool"),
        pytest.param("1.005", id="three-decimals"),
        pytest.param("-1.00", id="negative"),
        pytest.param("1e3", id="exponent"),
        pytest.param("", id="empty"),
        pytest.param(" 1.00", id="space"),
        pytest.param("1,50", id="comma"),
        pytest.param("NaN", id="nan"),
        pytest.param("1234567890123", id="too-many-digits"),
        pytest.param(None, id="null"),
    ],
)
def test_money_rejects_bad_values_naming_the_field(value: object) -> None:
    """Numbers, extra decimals, negatives and junk are refused, naming items.0.price."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate_json(json.dumps(_receipt(items=[_item(price=value)])))
    assert _error_field(info.value) == "items.0.price"
    assert "items.0.price" in ErrorBody.from_validation_error(info.value).error.message


def test_money_too_large_says_the_limit() -> None:
    """13 digits of roubles: the message names the largest amount, not the decimals."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate_json(
            json.dumps(_receipt(items=[_item(price="1000000000000.00")]))
        )
    message = ErrorBody.from_validation_error(info.value).error.message
    assert message.startswith("items.0.price: ")
    assert "at most 999999999999.99" in message


def test_money_json_number_message_is_clear() -> None:
    """A JSON number for money gets a message saying it must be a string."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate_json(json.dumps(_receipt(payments={"card": 300})))
    message = ErrorBody.from_validation_error(info.value).error.message
    assert message.startswith("payments.card: ")
    assert "string" in message
    assert "not a JSON number" in message


@pytest.mark.parametrize(
    ("money", "kopecks"),
    [("0.01", 1), ("150", 15000), ("150.10", 15010), ("999999999999.99", 99999999999999)],
)
def test_money_to_kopecks_is_exact(money: str, kopecks: int) -> None:
    """Conversion to kopecks and back is exact, whatever the magnitude."""
    assert money_to_kopecks(Decimal(money)) == kopecks
    assert kopecks_to_money(kopecks) == Decimal(money)
    assert format_money(kopecks_to_money(kopecks)) == f"{Decimal(money):.2f}"


def test_money_to_kopecks_refuses_fractions_of_a_kopeck() -> None:
    """A Decimal with three decimals is not silently rounded."""
    with pytest.raises(ValueError, match="two decimals"):
        money_to_kopecks(Decimal("1.005"))


def test_cash_amount_must_be_above_zero() -> None:
    """A cash command of 0.00 is refused, naming amount."""
    with pytest.raises(ValidationError) as info:
        CashCommand.model_validate({"id": "c", "direction": "in", "amount": "0.00"})
    assert _error_field(info.value) == "amount"


# -- quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "1"), ("0.5", "0.5"), ("1.500", "1.5"), ("0.000001", "0.000001"), ("100", "100")],
)
def test_quantity_accepts_positive_up_to_six_decimals(text: str, expected: str) -> None:
    """Quantities are strings with up to 6 decimals, serialized without trailing zeros."""
    req = ReceiptRequest.model_validate(_receipt(items=[_item(qty=text)]))
    assert json.loads(req.model_dump_json())["items"][0]["qty"] == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1, id="json-int"),
        pytest.param(0.5, id="json-float"),
        pytest.param("0", id="zero"),
        pytest.param("-1", id="negative"),
        pytest.param("0.0000001", id="seven-decimals"),
        pytest.param("1000001", id="too-many"),
        pytest.param("1e2", id="exponent"),
    ],
)
def test_quantity_rejects_bad_values_naming_the_field(value: object) -> None:
    """Numbers, zero, negatives and over-precise quantities are refused, naming the field."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate_json(json.dumps(_receipt(items=[_item(qty=value)])))
    assert _error_field(info.value) == "items.0.qty"


# -- ids, names, strictness -------------------------------------------------------------------


@pytest.mark.parametrize("request_id", ["a", "x" * 64, "crm:2026/01/05#123", "~!"])
def test_id_accepts_printable_ascii(request_id: str) -> None:
    """Ids of 1..64 printable ASCII characters are accepted as they are."""
    assert ReceiptRequest.model_validate(_receipt(id=request_id)).id == request_id


@pytest.mark.parametrize(
    "request_id",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 65, id="65-chars"),
        pytest.param("a b", id="space"),
        pytest.param("a\nb", id="newline"),
        pytest.param("чек-1", id="non-ascii"),
        pytest.param(123, id="number"),
    ],
)
def test_id_rejects_bad_values(request_id: object) -> None:
    """Empty, long, spaced, control, non-ASCII and numeric ids are refused, naming id."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate(_receipt(id=request_id))
    assert _error_field(info.value) == "id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(_receipt(itemz=[]), "itemz", id="top-level"),
        pytest.param(_receipt(items=[{**_item(), "prise": "1.00"}]), "items.0.prise", id="in-item"),
        pytest.param(_receipt(payments={"bonus": "10.00"}), "payments.bonus", id="in-payments"),
        pytest.param(_receipt(customer={"mail": "a@b.ru"}), "customer.mail", id="in-customer"),
    ],
)
def test_request_typo_is_an_unknown_field(body: dict[str, Any], field: str) -> None:
    """extra="forbid": a misspelt key is refused, naming it."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate_json(json.dumps(body))
    error = ErrorBody.from_validation_error(info.value).error
    assert (error.field, error.message) == (field, f"{field}: unknown field")


@pytest.mark.parametrize(
    "vat",
    [
        "none",
        "vat0",
        "vat5",
        "vat7",
        "vat10",
        "vat20",
        "vat22",
        "vat10_110",
        "vat20_120",
        "vat22_122",
        "vat5_105",
        "vat7_107",
        "vat18",
    ],
)
def test_vat_names_accepted(vat: str) -> None:
    """Every docs/contract.md VAT name, the 2026 calculated rates and AZ's vat18 (v1.1).

    The contract takes every name; which the agent's country accepts is the intake's check.
    """
    assert ReceiptRequest.model_validate(_receipt(items=[_item(vat=vat)])).items[0].vat == vat


@pytest.mark.parametrize("vat", ["vat19", "VAT22", "VAT18", "vat122", ""])
def test_vat_unknown_names_rejected(vat: str) -> None:
    """A VAT name outside the list is refused, naming the field."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate(_receipt(items=[_item(vat=vat)]))
    assert _error_field(info.value) == "items.0.vat"


@pytest.mark.parametrize(
    "subject",
    [
        "commodity",
        "excise",
        "job",
        "service",
        "payment",
        "agent_commission",
        "composite",
        "another",
        "deposit",
    ],
)
def test_subject_names_accepted(subject: str) -> None:
    """Every tag-1212 name we support is accepted as an item's subject."""
    req = ReceiptRequest.model_validate(_receipt(items=[_item(subject=subject)]))
    assert req.items[0].subject == subject


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "expense"), ("category", "bar"), ("items", {}), ("payments", [])],
)
def test_request_enumerations_and_shapes_checked(field: str, value: object) -> None:
    """Unknown kinds, categories and wrong shapes are refused, naming the field."""
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate(_receipt(**{field: value}))
    assert _error_field(info.value) == field


def test_missing_required_field_named() -> None:
    """A missing required field is named."""
    body = _receipt()
    del body["payments"]
    with pytest.raises(ValidationError) as info:
        ReceiptRequest.model_validate(body)
    assert _error_field(info.value) == "payments"


def test_request_json_garbage_is_a_validation_error() -> None:
    """Invalid JSON is a ValidationError (the adapter's 400), not a crash."""
    with pytest.raises(ValidationError):
        ReceiptRequest.model_validate_json(b"{not json")


# -- results ----------------------------------------------------------------------------------


def _fiscal(**overrides: Any) -> dict[str, Any]:
    fiscal = {
        "fn": "9289000100346765",
        "fd": 97660,
        "fp": 4179925410,
        "shift": 12,
        "number": 7,
        "issued_at": "2020-05-18T15:52:00+03:00",
        "total": "531.82",
        "qr": "t=20200518T1552&s=531.82&fn=9289000100346765&i=97660&fp=4179925410&n=1",
    }
    fiscal.update(overrides)
    return fiscal


def test_times_without_offset_rejected() -> None:
    """A naive time is refused: times are ISO 8601 with an offset."""
    with pytest.raises(ValidationError) as info:
        FiscalResult.model_validate(_fiscal(issued_at="2020-05-18T15:52:00"))
    assert _error_field(info.value) == "issued_at"


def test_results_are_frozen() -> None:
    """Results cannot be changed after they are built."""
    result = ReceiptResult(id="crm-1", status="pending")
    with pytest.raises(ValidationError):
        result.status = "done"  # type: ignore[misc]


def test_results_ignore_unknown_fields() -> None:
    """A consumer keeps working when a newer agent adds a field to a result."""
    result = ReceiptResult.model_validate({"id": "crm-1", "status": "done", "new": 1})
    assert result.status == "done"


def test_result_status_values() -> None:
    """Status is one of done, rejected, failed, pending, printing, unknown."""
    for status in ("done", "rejected", "failed", "pending", "printing", "unknown"):
        assert ReceiptResult(id="x", status=status).status == status  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ReceiptResult.model_validate({"id": "x", "status": "lost"})


def test_fiscal_result_total_serializes_as_string() -> None:
    """The fiscal total is a string with two decimals on the wire."""
    fiscal = FiscalResult.model_validate(_fiscal(total="42.5"))
    assert json.loads(fiscal.model_dump_json())["total"] == "42.50"


# -- fingerprint ------------------------------------------------------------------------------


def _fp(body: dict[str, Any]) -> str:
    return request_fingerprint(ReceiptRequest.model_validate_json(json.dumps(body)))


def test_fingerprint_money_normalized() -> None:
    """ "150" and "150.00" are the same content."""
    a = _receipt(items=[_item(price="150")], payments={"cash": "150"})
    b = _receipt(items=[_item(price="150.00")], payments={"cash": "150.0"})
    assert _fp(a) == _fp(b)


def test_fingerprint_key_order_irrelevant() -> None:
    """The order of keys in the JSON does not change the fingerprint."""
    body = _receipt()
    reordered = dict(reversed(list(body.items())))
    reordered["items"] = [dict(reversed(list(item.items()))) for item in body["items"]]
    assert _fp(body) == _fp(reordered)


def test_fingerprint_quantity_and_absent_values_normalized() -> None:
    """ "1" equals "1.000"; null, absent and zero payments are the same; empty customer too."""
    a = _receipt(items=[_item(qty="1")], payments={"cash": "150.00"})
    b = _receipt(
        items=[_item(qty="1.000", subject=None)],
        payments={"cash": "150.00", "card": "0", "prepaid": None},
        customer={},
    )
    assert _fp(a) == _fp(b)


@pytest.mark.parametrize(
    "change",
    [
        {"items": [_item(price="150.01")]},
        {"items": [_item(qty="3")]},
        {"items": [_item(vat="vat10")]},
        {"items": [_item(), _item()]},
        {"kind": "refund"},
        {"category": "service"},
        {"payments": {"card": "300.00"}},
        {"customer": {"email": "a@example.com"}},
        {"cashier": {"name": "Иванов"}},
    ],
)
def test_fingerprint_differs_for_other_content(change: dict[str, Any]) -> None:
    """Any change of content changes the fingerprint (same id → id_conflict)."""
    assert _fp(_receipt()) != _fp(_receipt(**change))


def test_fingerprint_cash_and_receipt_never_collide() -> None:
    """A cash command's canonical form is tagged, so it differs from any receipt's."""
    cash = CashCommand(id="crm-1", direction="in", amount=Decimal("1.00"))
    assert canonical_json(cash).startswith('{"body":')
    assert '"type":"cash"' in canonical_json(cash)
    assert request_fingerprint(cash) != _fp(_receipt())


def test_fingerprint_canonical_form_is_pinned() -> None:
    """The canonical form is stored with every row, so it must not drift between versions."""
    req = ReceiptRequest.model_validate(
        {
            "payments": {"cash": "150"},
            "items": [{"vat": "vat22", "price": "150", "qty": "1.0", "name": "Кофе"}],
            "category": "goods",
            "kind": "sale",
            "id": "crm-1",
        }
    )
    assert canonical_json(req) == (
        '{"body":{"category":"goods","id":"crm-1","items":[{"name":"Кофе","price":"150.00",'
        '"qty":"1","vat":"vat22"}],"kind":"sale","payments":{"cash":"150.00"}},"type":"receipt"}'
    )
    assert len(request_fingerprint(req)) == 64
