"""SmartOne request payloads, built from the agent's domain objects. Pure.

What goes inside the envelope's ``data`` (docs/smartone-notes.md §5-§6): a receipt becomes
the JSON of ``/sale`` or ``/refund``; shift, cash and status reads get their small bodies.
Money is in minor units (qəpik: the agent's Kopecks carry them), a quantity x1000, a tax
percent x100. The reply side is :mod:`agent.drivers.smartone.replies`.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from agent.domain.money import QTY_SCALE, Kopecks
from agent.domain.receipt import Item, Receipt, ReceiptKind
from agent.domain.vat import RATE_HUNDREDTHS
from agent.drivers.errors import InvalidArgument

__all__ = [
    "CURRENCY",
    "QTY_FACTOR",
    "TAX_NAME",
    "cash_request",
    "check_status_request",
    "close_shift_request",
    "employee_request",
    "item_json",
    "receipt_request",
    "receipt_route",
]

CURRENCY: Final = "AZN"
QTY_FACTOR: Final = 1000
"""The cashbox's quantity unit: 1000 = 1.000."""
TAX_NAME: Final = "VAT"
"""The ``taxName`` of every line, also at 0 % (docs/smartone-notes.md §5.2: the cashbox's
allowed set decides; another name for exempt turnover is unconfirmed)."""

_MICROS_PER_UNIT: Final = QTY_SCALE // QTY_FACTOR

Route = Literal["/sale", "/refund"]


def receipt_route(receipt: Receipt) -> Route:
    """``/sale`` for a sale, ``/refund`` for a refund."""
    return "/refund" if receipt.kind is ReceiptKind.REFUND else "/sale"


def receipt_request(receipt: Receipt, *, key: str, employee_name: str | None) -> dict[str, Any]:
    """The ``/sale`` or ``/refund`` body of a receipt; ``key`` is its ``documentExtID``.

    The same receipt and key give the same body, byte for byte, on every try (no clock, no
    counter): a resend after a lost answer is the very request the cashbox may have stored.
    ``docNumber`` is the key too. A refund names its sale by ``parentDocID`` when the receipt
    knows the sale's ``fiscalID`` (:attr:`Receipt.parent_doc_id`); without it the refund is
    sent unlinked. Raises :class:`~agent.drivers.errors.InvalidArgument` for a line the
    cashbox cannot carry (a quantity finer than 0.001).
    """
    if receipt.correction is not None:
        # The driver refuses a correction before it builds anything: a guard only.
        raise InvalidArgument(0, 0, "the SmartOne cashbox has no correction receipt")
    body: dict[str, Any] = {
        "documentExtID": key,
        "docNumber": key,
        "employeeName": employee_name or receipt.cashier.name,
        "currency": CURRENCY,
        "amount": receipt.total,
        "items": [item_json(item) for item in receipt.items],
        "payments": {
            "cashAmount": receipt.payments.cash,
            "cashlessAmount": receipt.payments.card,
            "otherAmount": receipt.payments.prepaid,  # a guess: docs/smartone-notes.md §9
        },
    }
    if receipt.kind is ReceiptKind.REFUND and receipt.parent_doc_id:
        body["parentDocID"] = receipt.parent_doc_id
    return body


def item_json(item: Item) -> dict[str, Any]:
    """One line: name, quantity x1000, price and amount in minor units, no discount, its tax."""
    units, rest = divmod(item.qty, _MICROS_PER_UNIT)
    if rest:
        raise InvalidArgument(
            0,
            0,
            f"item {item.name!r}: quantity {item.qty / QTY_SCALE} is finer than the cashbox's"
            " 0.001; round it in the request",
        )
    return {
        "itemName": item.name,
        "itemQty": units,
        "itemPrice": item.price,
        "itemAmount": item.amount,
        "discount": 0,
        "itemTaxes": [{"taxName": TAX_NAME, "taxPrc": RATE_HUNDREDTHS[item.vat]}],
    }


def employee_request(employee_name: str) -> dict[str, Any]:
    """``/open_shift`` (and any route that only names the cashier)."""
    return {"employeeName": employee_name}


def close_shift_request(employee_name: str, open_orders_operation: str | None) -> dict[str, Any]:
    """``/close_shift``: the cashier, and what to do with unclosed invoices when configured."""
    body: dict[str, Any] = {"employeeName": employee_name}
    if open_orders_operation is not None:
        body["openOrdersOperation"] = open_orders_operation
    return body


def cash_request(key: str, amount: Kopecks, employee_name: str | None) -> dict[str, Any]:
    """``/deposit`` or ``/withdraw``: the amount (> 0) under its ``documentExtID``.

    ``employeeName`` only when known (the interface's cash movements name no cashier).
    """
    if amount <= 0:
        raise InvalidArgument(0, 0, f"a cash movement must be above 0, not {amount}")
    body: dict[str, Any] = {"documentExtID": key, "amount": amount}
    if employee_name:
        body["employeeName"] = employee_name
    return body


def check_status_request(key: str) -> dict[str, Any]:
    """``/check_status`` of the document stored under ``documentExtID`` ``key``."""
    return {"documentExtID": key}
