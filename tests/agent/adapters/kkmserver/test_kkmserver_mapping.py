"""KkmServer JSON in → contract requests out, and results → KkmServer replies: vectors."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from agent.adapters.kkmserver.envelope import ALREADY_DONE, QUEUE_EXPIRED, Status, envelope
from agent.adapters.kkmserver.lenient import BodyError, FieldError, Fields, decode_body
from agent.adapters.kkmserver.requests import (
    Refused,
    cash_command,
    receipt_request,
    request_id,
)
from agent.adapters.kkmserver.results import get_rezult, row_reply
from agent.contract import ReceiptRequest
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
from agent.outbox.codes import QUEUE_EXPIRED as WITHDRAWN
from agent.outbox.orders import FiscalRecord
from agent.outbox.rows import OutboxRow
from agent.outbox.states import RowKind, RowState

TAX = {"top_up": "usn_income", "service": "usn_income", "goods": "usn_income"}


def line(**over: Any) -> dict[str, Any]:
    base = {
        "Name": "Вода 0,5",
        "Quantity": 2,
        "Price": 120,
        "Amount": 240,
        "Tax": 22,
        "SignMethodCalculation": 4,
        "SignCalculationObject": 1,
    }
    return {**base, **over}


def check(**over: Any) -> dict[str, Any]:
    base = {
        "Command": "RegisterCheck",
        "IsFiscalCheck": True,
        "TypeCheck": 0,
        "CashierName": "Петрова А.",
        "CheckStrings": [{"Register": line()}],
        "Cash": 300,
    }
    return {**base, **over}


def mapped(data: dict[str, Any]) -> dict[str, Any]:
    result = receipt_request(Fields(data), request_id="kkm-1", tax_systems=TAX)
    ReceiptRequest.model_validate(result.request)  # every mapping is a valid contract request
    return result.request


def test_reference_example_maps_to_a_receipt_request() -> None:
    """KkmServer's documented example: a top-up-style service line and a goods line."""
    data = {
        "Command": "RegisterCheck",
        "IdCommand": "0f6a1c2e-58b4-4d0e-9a7c-2b3d4e5f6a7b",
        "IsFiscalCheck": True,
        "TypeCheck": 0,
        "NotPrint": False,
        "CashierName": "Петрова А.",
        "TaxVariant": "",
        "CheckStrings": [
            {"PrintText": {"Text": ">#2#<Клуб Пример", "Font": 2}},
            {
                "Register": line(
                    Name="Пополнение баланса",
                    Quantity=1,
                    Price=500,
                    Amount=500,
                    Tax=-1,
                    SignCalculationObject=4,
                )
            },
            {"Register": line()},
        ],
        "Cash": 300,
        "ElectronicPayment": 440,
        "AdvancePayment": 0,
        "Credit": 0,
        "CashProvision": 0,
    }
    result = receipt_request(Fields(data), request_id="kkm-x", tax_systems=TAX)
    assert result.request == {
        "id": "kkm-x",
        "kind": "sale",
        "category": "service",
        "items": [
            {
                "name": "Пополнение баланса",
                "qty": "1",
                "price": "500.00",
                "vat": "none",
                "subject": "service",
            },
            {
                "name": "Вода 0,5",
                "qty": "2",
                "price": "120.00",
                "vat": "vat22",
                "subject": "commodity",
            },
        ],
        "payments": {"cash": "300.00", "card": "440.00"},
        "cashier": {"name": "Петрова А."},
    }
    assert result.warnings == ["Строки PrintText, BarCode и PrintImage агент не печатает"]


@pytest.mark.parametrize(
    ("tax", "vat"),
    [
        (-1, "none"),
        (0, "vat0"),
        (5, "vat5"),
        (7, "vat7"),
        (10, "vat10"),
        (20, "vat20"),
        (22, "vat22"),
        (105, "vat5_105"),
        (107, "vat7_107"),
        (110, "vat10_110"),
        (120, "vat20_120"),
        (122, "vat22_122"),
        ("22", "vat22"),
        ("-1", "none"),
    ],
)
def test_every_tax_value_kkmserver_accepts(tax: object, vat: str) -> None:
    request = mapped(check(CheckStrings=[{"Register": line(Tax=tax)}]))
    assert request["items"][0]["vat"] == vat


@pytest.mark.parametrize("tax", [18, 118, 33, 22.5, "abc"])
def test_tax_outside_kkmservers_set_is_its_error(tax: object) -> None:
    with pytest.raises((Refused, FieldError)) as info:
        mapped(check(CheckStrings=[{"Register": line(Tax=tax)}]))
    if isinstance(info.value, Refused):
        assert info.value.error == "Не правильно указана ставка НДС!"


def test_lenient_keys_strings_and_booleans() -> None:
    """Case-insensitive names, numbers as strings, 0/1 booleans, unknown keys ignored."""
    data = {
        "command": "RegisterCheck",
        "isfiscalcheck": 1,
        "TYPECHECK": "1",
        "cashiername": "Иванов",
        "CashierVatin": "500100732259",
        "checkstrings": [
            None,
            {
                "register": {
                    "name": "Кофе",
                    "quantity": "1",
                    "price": "150.00",
                    "amount": "150,00",
                    "tax": "22",
                    "signmethodcalculation": "4",
                    "signcalculationobject": "1",
                    "kassa_ip_port": "x",
                }
            },
        ],
        "ElectronicPayment": "150.00",
        "VerFFD": "1.2",
        "NotPrint": 0,
    }
    request = mapped(data)
    assert request["kind"] == "refund"
    assert request["cashier"] == {"name": "Иванов", "inn": "500100732259"}
    assert request["items"][0]["price"] == "150.00"
    assert request["payments"] == {"card": "150.00"}


def test_advance_lines_are_a_top_up_and_advance_payment_is_prepaid() -> None:
    top_up = mapped(
        check(
            CheckStrings=[
                {
                    "Register": line(
                        Quantity=1,
                        Price=500,
                        Amount=500,
                        Tax=122,
                        SignMethodCalculation=3,
                        SignCalculationObject=10,
                    )
                }
            ],
            Cash=0,
            ElectronicPayment=500,
        )
    )
    assert top_up["category"] == "top_up"
    assert top_up["items"][0]["subject"] == "payment"
    offset = mapped(
        check(
            CheckStrings=[
                {
                    "Register": line(
                        Quantity=1, Price=450, Amount=450, Tax=-1, SignCalculationObject=4
                    )
                }
            ],
            Cash=0,
            AdvancePayment=450,
        )
    )
    assert offset["category"] == "service"
    assert offset["payments"] == {"prepaid": "450.00"}


def test_discount_folds_into_the_unit_price() -> None:
    request = mapped(check(CheckStrings=[{"Register": line(Quantity=2, Price=120, Amount=200)}]))
    assert request["items"][0]["price"] == "100.00"


def test_customer_contact_and_not_print() -> None:
    mail = receipt_request(
        Fields(check(ClientAddress="guest@example.com", NotPrint=True)),
        request_id="kkm-1",
        tax_systems=TAX,
    )
    assert mail.request["customer"] == {"email": "guest@example.com"}
    assert any("NotPrint" in text for text in mail.warnings)
    phone = mapped(check(ClientAddress="+79001234567"))
    assert phone["customer"] == {"phone": "+79001234567"}


@pytest.mark.parametrize(
    ("over", "error"),
    [
        ({"CheckStrings": []}, "В чеке нет фискальных строк!!!"),
        ({"CheckStrings": [{"PrintText": {"Text": "x"}}]}, "В чеке нет фискальных строк!!!"),
        ({"Cash": -1}, "Нельзя указывать отрицательные суммы в оплате"),
        (
            {"CheckStrings": [{"Register": line(Price=-1)}]},
            "Нельзя указывать отрицательные суммы, цены и количество для товара/услуги",
        ),
        ({"Cash": 100}, "Сумма указанных оплат меньше чем сумма по строкам чека"),
        (
            {"Cash": 0, "ElectronicPayment": 300},
            "Сумма по чеку больше чем сумма по указанной оплате наличными - не с чего давать сдачу",
        ),
        (
            {
                "CheckStrings": [
                    {"Register": {k: v for k, v in line().items() if k != "SignMethodCalculation"}}
                ]
            },
            "Не указан признак способа расчета!",
        ),
        (
            {
                "CheckStrings": [
                    {"Register": {k: v for k, v in line().items() if k != "SignCalculationObject"}}
                ]
            },
            "Не указан признак предмета расчета!",
        ),
    ],
)
def test_kkmservers_own_checks_with_its_wording(over: dict[str, Any], error: str) -> None:
    with pytest.raises(Refused) as info:
        mapped(check(**over))
    assert info.value.error == error


@pytest.mark.parametrize(
    "over",
    [
        {"IsFiscalCheck": False},
        {"TypeCheck": 2},
        {"Credit": 10},
        {"TaxVariant": "0"},  # the agent is configured for usn_income ("1")
        {"TaxVariant": "3"},
        {"CheckStrings": [{"Register": line(SignMethodCalculation=1)}]},
        {"CheckStrings": [{"Register": line(SignCalculationObject=33)}]},
        {"CheckStrings": [{"Register": line()}, {"Register": line(SignMethodCalculation=3)}]},
        {"CheckStrings": [{"Register": line(Quantity=3, Price=100, Amount=100)}]},
    ],
)
def test_what_the_agent_cannot_print_is_refused_with_a_sentence(over: dict[str, Any]) -> None:
    with pytest.raises(Refused) as info:
        mapped(check(**over))
    assert len(info.value.error) > 20


def test_tax_variant_matching_the_config_is_accepted() -> None:
    assert mapped(check(TaxVariant="1"))["category"] == "goods"
    assert mapped(check(TaxVariant=1))["category"] == "goods"


def test_request_ids_are_deterministic_and_apart_from_other_ways_in() -> None:
    guid = "0f6a1c2e-58b4-4d0e-9a7c-2b3d4e5f6a7b"
    assert request_id(guid) == f"kkm-{guid}"
    odd = "заказ №5 / касса 1"
    assert request_id(odd) == request_id(odd)
    assert request_id(odd).startswith("kkm#")
    assert len(request_id("x" * 500)) <= 64
    assert request_id("a") != request_id("b")


def test_cash_commands() -> None:
    assert cash_command(Fields({"Amount": "1000"}), request_id="kkm-c", direction="in") == {
        "id": "kkm-c",
        "direction": "in",
        "amount": "1000.00",
    }
    with pytest.raises(Refused):
        cash_command(Fields({"Amount": 0}), request_id="kkm-c", direction="out")


def test_cash_above_the_contract_limit_is_refused_with_the_limit() -> None:
    """An amount past 12 digits of roubles never becomes a command the contract refuses."""
    assert (
        cash_command(Fields({"Amount": "999999999999.99"}), request_id="kkm-c", direction="in")[
            "amount"
        ]
        == "999999999999.99"
    )
    with pytest.raises(Refused, match=re.escape("999999999999.99")):
        cash_command(Fields({"Amount": 1_000_000_000_000}), request_id="kkm-c", direction="in")


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        (codecs.BOM_UTF8 + b'{"Command":"List"}', "List"),
        (codecs.BOM_UTF16_LE + '{"Command":"List"}'.encode("utf-16-le"), "List"),
        (b'  garbage {"Command":"List"} trailing }}', "List"),
        (b'{"command":"GetDataKKT","Command":"List"}', "GetDataKKT"),
    ],
)
def test_bodies_read_as_kkmserver_reads_them(raw: bytes, command: str) -> None:
    assert Fields(decode_body(raw)).text("Command") == command


@pytest.mark.parametrize("raw", [b"", b"no json", b'{"Command":', b"\xff\xfe\x00", b"[1,2]"])
def test_bodies_that_are_not_json_objects(raw: bytes) -> None:
    with pytest.raises(BodyError):
        decode_body(raw)


def _row(state: RowState, **over: Any) -> OutboxRow:
    receipt = Receipt(
        kind=ReceiptKind.SALE,
        category=Category.GOODS,
        tax_system=TaxSystem.USN_INCOME,
        items=(
            Item(
                name="Вода",
                qty=Micros(2_000_000),
                price=Kopecks(12000),
                vat=VatRate.VAT22,
                subject=PaymentSubject.COMMODITY,
                method=PaymentMethod.FULL_SETTLEMENT,
            ),
        ),
        payments=Payments(cash=Kopecks(30000)),
        cashier=Cashier(name="Петрова"),
    )
    now = datetime(2026, 3, 14, 16, 5, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": "kkm-1",
        "kind": RowKind.RECEIPT,
        "state": state,
        "receipt": receipt,
        "cash": None,
        "fingerprint": "f",
        "accepted_at": now,
        "updated_at": now,
        "attempts": 0,
        "fn_serial": None,
        "last_fd_before": None,
        "drawer_before": None,
        "fiscal": None,
        "error_code": None,
        "error_message": None,
        "delivered_at": None,
    }
    return OutboxRow(**{**base, **over})


def test_done_row_is_kkmservers_receipt_reply() -> None:
    fiscal = FiscalRecord(
        fn="7380440700123456",
        fd=412,
        fp=2876543210,
        shift=37,
        number=9,
        issued_at=datetime(2026, 3, 14, 19, 5, tzinfo=UTC),
        total=Kopecks(24000),
        change=Kopecks(6000),
    )
    reply = row_reply(_row(RowState.DONE, fiscal=fiscal), command="RegisterCheck", id_command="g")
    assert reply == {
        "CheckNumber": 412,
        "SessionNumber": 37,
        "SessionCheckNumber": 9,
        "QRCode": "t=20260314T1905&s=240.00&fn=7380440700123456&i=412&fp=2876543210&n=1",
        "Cash": Decimal("300.00"),
        "ElectronicPayment": Decimal("0.00"),
        "AdvancePayment": Decimal("0.00"),
        "Credit": Decimal(0),
        "CashProvision": Decimal(0),
        "Command": "RegisterCheck",
        "Error": "",
        "Warning": "",
        "Message": "",
        "Status": 0,
        "IdCommand": "g",
        "NumDevice": 1,
        "MessageFrom": "KkmServer",
    }


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (RowState.PENDING, Status.NOT_RUN),
        (RowState.PRINTING, Status.RUN),
        (RowState.UNKNOWN, Status.RUN),
        (RowState.REJECTED, Status.ERROR),
        (RowState.FAILED, Status.ERROR),
    ],
)
def test_row_states_are_kkmserver_statuses(state: RowState, status: Status) -> None:
    reply = row_reply(
        _row(state, error_code="x", error_message="y"), command="RegisterCheck", id_command="g"
    )
    assert reply["Status"] == status
    assert "CheckNumber" not in reply
    assert bool(reply["Error"]) is (status is Status.ERROR)


def test_withdrawn_row_has_kkmservers_queue_wording() -> None:
    row = _row(RowState.FAILED, error_code=WITHDRAWN, error_message=QUEUE_EXPIRED)
    assert row_reply(row, command="RegisterCheck", id_command="g")["Error"] == QUEUE_EXPIRED


def test_get_rezult_wraps_found_not_found_and_empty() -> None:
    stored = envelope("RegisterCheck", status=Status.OK, id_command="g", CheckNumber=1)
    found = get_rezult("g", stored)
    assert (found["Status"], found["IdCommand"], found["Rezult"]) == (0, "", stored)
    missing = get_rezult("g", None)
    assert missing["Status"] == Status.NOT_FOUND
    assert missing["Rezult"]["IdCommand"] == "g"
    assert missing["Rezult"]["Status"] == Status.NOT_FOUND
    assert get_rezult("", None)["Status"] == Status.ERROR


def test_envelope_omits_defaults_at_the_top_level() -> None:
    reply = envelope(
        "X", status=Status.ALREADY_DONE, error=ALREADY_DONE, CheckNumber=0, URL="", LineLength=-1
    )
    assert not {"CheckNumber", "URL", "LineLength"} & set(reply)
    assert reply["Status"] == 5
