"""Pure domain ↔ JSON for what an outbox row stores: a receipt or a cash order.

Every field is kept: money as integer kopecks, quantities as integer millionths, enums by
name (``"SALE"``, ``"VAT22_122"``), so a stored row means the same after a change of enum
values. Each document carries a format version ``"v"``. Decoding is strict: a stored row
that does not decode raises :class:`CodecError` rather than becoming a different receipt.
"""

from __future__ import annotations

import functools
import json
from enum import Enum
from typing import Any, Final, TypeVar

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
from agent.outbox.orders import CashDirection, CashOrder, FiscalRecord

__all__ = [
    "FORMAT_VERSION",
    "CashDirection",
    "CashOrder",
    "CodecError",
    "FiscalRecord",
    "cash_from_json",
    "cash_to_json",
    "receipt_from_json",
    "receipt_to_json",
]

FORMAT_VERSION: Final = 1

DECODED_CACHE_SIZE: Final = 256
"""Decoded payloads kept: a burst of rows on their way through the worker and the API."""

E = TypeVar("E", bound=Enum)


class CodecError(ValueError):
    """A stored document does not decode: the row is damaged or from an unknown version."""

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"stored {what} does not decode: {detail}")


def receipt_to_json(receipt: Receipt) -> str:
    """The receipt as compact JSON."""
    tax = None if receipt.tax_system is None else receipt.tax_system.name
    if receipt.tax_system is not None and (
        tax is None or tax not in TaxSystem.__members__  # a combination is "OSN|PATENT"
    ):
        msg = f"a receipt has exactly one tax system, not {receipt.tax_system!r}"
        raise ValueError(msg)
    doc = {
        "v": FORMAT_VERSION,
        "kind": receipt.kind.name,
        "category": receipt.category.name,
        "tax_system": tax,
        "items": [
            {
                "name": item.name,
                "qty": item.qty,
                "price": item.price,
                "vat": item.vat.name,
                "subject": item.subject.name,
                "method": item.method.name,
            }
            for item in receipt.items
        ],
        "payments": {
            "cash": receipt.payments.cash,
            "card": receipt.payments.card,
            "prepaid": receipt.payments.prepaid,
        },
        "cashier": {"name": receipt.cashier.name, "inn": receipt.cashier.inn},
        "customer_contact": receipt.customer_contact,
    }
    if receipt.parent_doc_id is not None:  # only when set: older rows decode unchanged
        doc["parent_doc_id"] = receipt.parent_doc_id
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=DECODED_CACHE_SIZE)
def receipt_from_json(text: str) -> Receipt:
    """The receipt back from :func:`receipt_to_json`; raises :class:`CodecError`.

    Memoized: a row is read several times on its way (intent, done, results) and the
    Receipt is immutable, so one decode serves them all.
    """
    doc = _load("receipt", text)
    try:
        payments = _dict(doc["payments"])
        cashier = _dict(doc["cashier"])
        return Receipt(
            kind=_enum(ReceiptKind, doc["kind"]),
            category=_enum(Category, doc["category"]),
            tax_system=_tax(doc["tax_system"]),
            items=tuple(_item(_dict(raw)) for raw in _list(doc["items"])),
            payments=Payments(
                cash=Kopecks(_int(payments["cash"])),
                card=Kopecks(_int(payments["card"])),
                prepaid=Kopecks(_int(payments["prepaid"])),
            ),
            cashier=Cashier(name=_str(cashier["name"]), inn=_opt_str(cashier["inn"])),
            customer_contact=_opt_str(doc["customer_contact"]),
            parent_doc_id=_opt_str(doc.get("parent_doc_id")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError("receipt", f"{type(exc).__name__}: {exc}") from exc


def cash_to_json(order: CashOrder) -> str:
    """The cash order as compact JSON."""
    doc = {
        "v": FORMAT_VERSION,
        "direction": order.direction.name,
        "amount": order.amount,
        "comment": order.comment,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=DECODED_CACHE_SIZE)
def cash_from_json(text: str) -> CashOrder:
    """The cash order back from :func:`cash_to_json`; raises :class:`CodecError`."""
    doc = _load("cash order", text)
    try:
        return CashOrder(
            direction=_enum(CashDirection, doc["direction"]),
            amount=Kopecks(_int(doc["amount"])),
            comment=_str(doc["comment"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError("cash order", f"{type(exc).__name__}: {exc}") from exc


def _load(what: str, text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodecError(what, f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise CodecError(what, "not a JSON object")
    if doc.get("v") != FORMAT_VERSION:
        raise CodecError(what, f"unknown format version {doc.get('v')!r}")
    return doc


def _item(raw: dict[str, Any]) -> Item:
    return Item(
        name=_str(raw["name"]),
        qty=Micros(_int(raw["qty"])),
        price=Kopecks(_int(raw["price"])),
        vat=_enum(VatRate, raw["vat"]),
        subject=_enum(PaymentSubject, raw["subject"]),
        method=_enum(PaymentMethod, raw["method"]),
    )


def _enum(cls: type[E], name: object) -> E:
    if not isinstance(name, str) or name not in cls.__members__:
        msg = f"{name!r} is not a {cls.__name__}"
        raise ValueError(msg)
    return cls[name]


def _tax(name: object) -> TaxSystem | None:
    if name is None:  # a receipt of a country without tax systems (docs/country-profiles.md)
        return None
    if not isinstance(name, str) or name not in TaxSystem.__members__:
        msg = f"{name!r} is not a TaxSystem"
        raise ValueError(msg)
    return TaxSystem[name]


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{value!r} is not an integer"
        raise TypeError(msg)
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        msg = f"{value!r} is not a string"
        raise TypeError(msg)
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = f"{value!r} is not an object"
        raise TypeError(msg)
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        msg = f"{value!r} is not a list"
        raise TypeError(msg)
    return value
