"""Whatever a CRM sends, the pure layer answers: a contract request, or a reason."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.adapters.kkmserver.lenient import BodyError, FieldError, Fields, decode_body
from agent.adapters.kkmserver.requests import Refused, cash_command, receipt_request
from agent.contract import CashCommand, ReceiptRequest

pytestmark = pytest.mark.timeout(120)

TAX = {"top_up": "usn_income", "service": "usn_income", "goods": "usn_income"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["150.00", "1,5", "-1", "22", "abc", "", "1e999", "0", "1"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
line_keys = st.sampled_from(
    ["Name", "Quantity", "Price", "Amount", "Tax", "SignMethodCalculation", "SignCalculationObject"]
)
check_keys = st.sampled_from(
    [
        "IsFiscalCheck",
        "TypeCheck",
        "NotPrint",
        "CashierName",
        "CashierVATIN",
        "ClientAddress",
        "TaxVariant",
        "Cash",
        "ElectronicPayment",
        "AdvancePayment",
        "Credit",
        "CashProvision",
    ]
)
lines = st.dictionaries(line_keys, values | scalars, max_size=7).map(lambda r: {"Register": r})
checks = st.fixed_dictionaries(
    {"IsFiscalCheck": st.booleans() | scalars, "CheckStrings": st.lists(lines | values, max_size=3)}
).flatmap(lambda base: st.dictionaries(check_keys, values, max_size=6).map(lambda x: {**base, **x}))


def _refusal(error: Exception) -> str:
    """The reason a refusal gives the CRM."""
    if isinstance(error, Refused):
        return error.error
    if isinstance(error, FieldError):
        return error.reason
    if isinstance(error, BodyError):
        return str(error)
    raise error


@settings(max_examples=150, deadline=None)
@given(checks)
def test_register_check_maps_or_says_why(data: dict[str, Any]) -> None:
    try:
        result = receipt_request(Fields(data), request_id="kkm-f", tax_systems=TAX)
    except (Refused, FieldError) as exc:
        reason = _refusal(exc)
    else:
        # A mapping is a contract request, or one the intake refuses naming the field.
        try:
            ReceiptRequest.model_validate(result.request)
        except ValidationError as exc:
            reason = str(exc)
        else:
            reason = "mapped"
    assert reason


@settings(max_examples=150, deadline=None)
@given(values)
def test_cash_maps_or_says_why(amount: Any) -> None:
    try:
        command = cash_command(Fields({"Amount": amount}), request_id="kkm-c", direction="in")
    except (Refused, FieldError) as exc:
        reason = _refusal(exc)
    else:
        reason = CashCommand.model_validate(command).id
    assert reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | values.map(lambda v: json.dumps(v).encode()))
def test_any_body_is_an_object_or_a_parse_error(raw: bytes) -> None:
    try:
        body = decode_body(raw)
    except BodyError as exc:
        reason = _refusal(exc)
    else:
        fields = Fields(body)
        for name in ("Command", "IdCommand", "Timeout"):
            with contextlib.suppress(FieldError):
                fields.text(name)
        reason = "object"
    assert reason
