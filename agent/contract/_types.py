"""Wire types shared by the contract models: money, quantities, ids, times.

Money and quantities are JSON strings on the wire ("150.00", "0.5"), never JSON numbers, so
no float ever touches an amount. Inside the models they are :class:`~decimal.Decimal`;
:func:`money_to_kopecks` converts exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "CENT",
    "MAX_QTY",
    "CategoryName",
    "ErrorCode",
    "Money",
    "Quantity",
    "ReceiptKindName",
    "RequestId",
    "StatusName",
    "SubjectName",
    "TaxSystemName",
    "Timestamp",
    "VatName",
    "format_money",
    "kopecks_to_money",
    "money_to_kopecks",
]

CENT: Final = Decimal("0.01")
MAX_QTY: Final = Decimal(1_000_000)
"""FF46 carries quantity x 10^6 in 5 bytes: a million units is past any real receipt."""

_MONEY = re.compile(r"\A\d{1,12}(\.\d{1,2})?\Z")
_MONEY_TOO_BIG = re.compile(r"\A\d{13,}(\.\d{1,2})?\Z")
MAX_MONEY: Final = Decimal("999999999999.99")
"""The largest amount the contract carries: 12 digits of roubles (no register takes more)."""
_QTY = re.compile(r"\A\d{1,7}(\.\d{1,6})?\Z")
_ID = re.compile(r"\A[\x21-\x7e]{1,64}\Z")

ReceiptKindName = Literal["sale", "refund"]
CategoryName = Literal["top_up", "service", "goods"]
VatName = Literal[
    "none",
    "vat0",
    "vat5",
    "vat7",
    "vat10",
    "vat20",
    "vat22",
    "vat10_110",
    "vat20_120",
    # Extension past docs/contract.md v1: the 2026 calculated rates (docs/fiscal-law-notes.md §1.4).
    "vat22_122",
    "vat5_105",
    "vat7_107",
    # v1.1: Azerbaijan's 18 %, accepted only where the config's country = "AZ"
    # (docs/country-profiles.md).
    "vat18",
]
SubjectName = Literal[
    "commodity",
    "excise",
    "job",
    "service",
    "payment",
    "agent_commission",
    "composite",
    "another",
    "deposit",
]
"""Tag 1212 values a club uses (docs/fiscal-law-notes.md §1.5), by name."""
TaxSystemName = Literal["osn", "usn_income", "usn_income_outcome", "eshn", "patent"]
"""Tag 1055 tax systems (docs/fiscal-law-notes.md §1.3), by name."""
StatusName = Literal["done", "rejected", "failed", "pending", "printing", "unknown"]
"""MQTT carries only done, rejected and failed; HTTP also answers the other three."""
ErrorCode = str


def _parse_money(value: object) -> Decimal:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -2:
            raise PydanticCustomError("money_format", "money has at most 2 decimals")
        if value < 0:
            raise PydanticCustomError("money_negative", "money must not be negative")
        return value.quantize(CENT)
    if isinstance(value, bool | int | float):
        raise PydanticCustomError(
            "money_type", 'money must be a JSON string such as "150.00", not a JSON number'
        )
    if not isinstance(value, str):
        raise PydanticCustomError("money_type", 'money must be a string such as "150.00"')
    if value.startswith("-"):
        raise PydanticCustomError("money_negative", "money must not be negative")
    if _MONEY_TOO_BIG.match(value):
        raise PydanticCustomError("money_range", "money is at most 999999999999.99")
    if not _MONEY.match(value):
        raise PydanticCustomError(
            "money_format", 'money is a decimal string with at most 2 decimals, such as "150.00"'
        )
    return Decimal(value).quantize(CENT)


def format_money(value: Decimal) -> str:
    """Money as the wire writes it: exactly two decimals ("150.00")."""
    return f"{value.quantize(CENT):f}"


def money_to_kopecks(value: Decimal) -> int:
    """Exact conversion of contract money (at most 2 decimals) to integer kopecks."""
    kopecks = value * 100
    if kopecks != kopecks.to_integral_value():
        msg = f"{value} has more than two decimals"
        raise ValueError(msg)
    return int(kopecks)


def kopecks_to_money(kopecks: int) -> Decimal:
    """Integer kopecks as contract money."""
    return (Decimal(kopecks) / 100).quantize(CENT)


def _parse_qty(value: object) -> Decimal:
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, bool | int | float):
        raise PydanticCustomError(
            "quantity_type", 'quantity must be a JSON string such as "1" or "0.5", not a number'
        )
    elif isinstance(value, str):
        text = value
    else:
        raise PydanticCustomError("quantity_type", 'quantity must be a string such as "1"')
    if not _QTY.match(text):
        raise PydanticCustomError(
            "quantity_format",
            'quantity is a positive decimal string with at most 6 decimals, such as "0.5"',
        )
    qty = Decimal(text)
    if qty <= 0:
        raise PydanticCustomError("quantity_range", "quantity must be above zero")
    if qty > MAX_QTY:
        raise PydanticCustomError("quantity_range", "quantity must be at most 1000000")
    return qty


def _format_qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise PydanticCustomError(
            "request_id", "id is 1..64 printable ASCII characters, without spaces"
        )
    return value


# The JSON schemas say what the wire carries (docs/asyncapi.yaml, docs/openapi.yaml): a
# string, never the JSON number pydantic's Decimal schema would also allow.
Money = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(format_money, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{1,12}(\.\d{1,2})?$",
            "description": "money: a decimal string, two decimals on output",
            "examples": ["150.00"],
        }
    ),
]
"""Non-negative money: a JSON string with at most two decimals in, exactly two out."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_parse_qty),
    PlainSerializer(_format_qty, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{1,7}(\.\d{1,6})?$",
            "description": "a quantity above zero, at most 1000000: a decimal string",
            "examples": ["1", "0.5"],
        }
    ),
]
"""A quantity above zero: a JSON string with at most six decimals ("1", "0.5")."""

RequestId = Annotated[
    str,
    AfterValidator(_check_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[!-~]{1,64}$",
            "description": "the idempotency key: 1..64 printable ASCII characters, no spaces",
        }
    ),
]
"""The idempotency key: 1..64 printable ASCII characters (0x21..0x7E).

Spaces and control characters are refused so an id can travel in a URL path and a log line
unchanged.
"""

Timestamp = AwareDatetime
"""ISO 8601 with an offset; a naive time is refused."""
