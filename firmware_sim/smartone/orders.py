"""Sale and refund bodies checked into orders the register can run (pure).

Money is integer qəpik (1/100 AZN), quantities ×1000 (``1000`` = 1.000), tax percents ×100
(``1800`` = 18 %) (docs/smartone-notes.md §5). A body that breaks a rule raises
:class:`SmartOneError` with the cash box's code: 3 a missing or malformed field or no items,
4 ``amount`` unlike the sum of the lines, 12 a tax percent the cash box does not allow,
8 payments below the total, 11 change asked from a non-cash payment, 18/19 a refund line not
in its sale or above what is left of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firmware_sim.smartone.codes import SmartOneCode, SmartOneError
from firmware_sim.vat import included_vat

__all__ = [
    "DEFAULT_TAX_PERCENTS",
    "Order",
    "OrderLine",
    "check_refund",
    "ext_id",
    "parse_order",
    "positive_amount",
    "vat_amounts",
]

DEFAULT_TAX_PERCENTS = frozenset({1800, 0})
"""Tax percents (×100) a cash box allows unless configured otherwise: 18 % and 0 %."""
QTY_SCALE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One line of a sale or refund."""

    key: str  # itemId, or itemName when there is none: how a refund names the sale's line
    name: str
    qty: int  # ×1000
    price: int  # qəpik per unit
    amount: int  # qəpik to pay for the line
    tax_prc: int  # ×100


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """A checked sale or refund body."""

    ext_id: str | None
    lines: tuple[OrderLine, ...]
    total: int
    cash: int
    cashless: int
    other: int
    employee: str | None
    doc_time: str | None
    parent_doc_id: str | None  # refund: the sale's fiscalID

    @property
    def change(self) -> int:
        """Cash handed back: all that was tendered above the total (from cash only)."""
        return self.cash + self.cashless + self.other - self.total


def _bad(message: str) -> SmartOneError:
    return SmartOneError(SmartOneCode.BAD_PARAMETERS, message)


def _int(value: Any, what: str, *, minimum: int = 0) -> int:  # noqa: ANN401 - JSON
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(f"{what} must be an integer >= {minimum}")
    return value


def _text(value: Any, what: str) -> str | None:  # noqa: ANN401 - JSON
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{what} must be a string")
    return value


def ext_id(payload: Mapping[str, Any]) -> str | None:
    """``documentExtID`` as a string (one old table types it integer); None when absent."""
    value = payload.get("documentExtID")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad("documentExtID must be a string")
    return str(value)


def positive_amount(payload: Mapping[str, Any]) -> int:
    """``amount`` of a deposit or withdraw: an integer above zero."""
    return _int(payload.get("amount"), "amount", minimum=1)


def _tax_prc(raw: Mapping[str, Any], allowed: frozenset[int]) -> int:
    taxes = raw.get("itemTaxes") or []
    if not isinstance(taxes, list) or len(taxes) > 1:
        raise _bad("itemTaxes must be a list of at most one tax")
    if not taxes:
        prc = 0
    else:
        if not isinstance(taxes[0], dict):
            raise _bad("itemTaxes[0] must be an object")
        prc = _int(taxes[0].get("taxPrc"), "taxPrc")
    if prc not in allowed:
        raise SmartOneError(
            SmartOneCode.TAX_NOT_ALLOWED, f"tax percent {prc} is not allowed on this cash box"
        )
    return prc


def _line(raw: Any, index: int, allowed: frozenset[int]) -> OrderLine:  # noqa: ANN401 - JSON
    if not isinstance(raw, dict):
        raise _bad(f"items[{index}] must be an object")
    name = _text(raw.get("itemName"), "itemName")
    if not name:
        raise _bad(f"items[{index}].itemName is required")
    key = _text(raw.get("itemId"), "itemId") or name
    qty = _int(raw.get("itemQty"), f"items[{index}].itemQty", minimum=1)
    amount = _int(raw.get("itemAmount"), f"items[{index}].itemAmount")
    price = raw.get("itemPrice")
    if price is None:
        price = (amount * QTY_SCALE + qty // 2) // qty
    price = _int(price, f"items[{index}].itemPrice")
    return OrderLine(
        key=key, name=name, qty=qty, price=price, amount=amount, tax_prc=_tax_prc(raw, allowed)
    )


def parse_order(payload: Mapping[str, Any], allowed_tax: frozenset[int]) -> Order:
    """Check a ``/sale`` or ``/refund`` body; payments absent = all in cash."""
    items = payload.get("items")
    if not isinstance(items, list) or not items:
        raise _bad("items must be a non-empty list")
    lines = tuple(_line(raw, index, allowed_tax) for index, raw in enumerate(items))
    total = sum(line.amount for line in lines)
    if payload.get("amount") is not None:
        amount = _int(payload.get("amount"), "amount")
        if amount != total:
            raise SmartOneError(
                SmartOneCode.AMOUNT_MISMATCH, f"amount {amount} != sum of the lines {total}"
            )
    if total == 0:
        raise _bad("the document total is zero")
    raw_pay = payload.get("payments")
    if raw_pay is None:
        raw_pay = {"cashAmount": total}
    if not isinstance(raw_pay, dict):
        raise _bad("payments must be an object")
    cash = _int(raw_pay.get("cashAmount", 0), "payments.cashAmount")
    cashless = _int(raw_pay.get("cashlessAmount", 0), "payments.cashlessAmount")
    other = _int(raw_pay.get("otherAmount", 0), "payments.otherAmount")
    if cash + cashless + other < total:
        raise SmartOneError(
            SmartOneCode.NOT_FULLY_PAID, f"paid {cash + cashless + other} of {total}"
        )
    if cashless + other > total:
        raise SmartOneError(SmartOneCode.CHANGE_FROM_CASH_ONLY, "non-cash payments above the total")
    parent = _text(payload.get("parentDocID"), "parentDocID")
    return Order(
        ext_id=ext_id(payload),
        lines=lines,
        total=total,
        cash=cash,
        cashless=cashless,
        other=other,
        employee=_text(payload.get("employeeName"), "employeeName"),
        doc_time=_text(payload.get("docTime"), "docTime"),
        parent_doc_id=parent or None,
    )


def check_refund(order: Order, sold: Mapping[str, int], refunded: Mapping[str, int]) -> None:
    """A refund against its sale: each line's key was sold (18), within what is left (19).

    ``sold`` and ``refunded`` map a line key to quantities ×1000.
    """
    asked: dict[str, int] = {}
    for line in order.lines:
        asked[line.key] = asked.get(line.key, 0) + line.qty
    for key, qty in asked.items():
        if key not in sold:
            raise SmartOneError(
                SmartOneCode.REFUND_ITEM_NOT_IN_SALE, f"item {key!r} is not in the sale"
            )
        left = sold[key] - refunded.get(key, 0)
        if qty > left:
            raise SmartOneError(
                SmartOneCode.REFUND_QTY_ABOVE_LEFT,
                f"item {key!r}: refund {qty} above the {left} left",
            )


def vat_amounts(lines: tuple[OrderLine, ...]) -> tuple[tuple[int, int], ...]:
    """(tax percent, VAT inside) per rate, prices including VAT, half up per rate turnover."""
    turnover: dict[int, int] = {}
    for line in lines:
        turnover[line.tax_prc] = turnover.get(line.tax_prc, 0) + line.amount
    return tuple((prc, included_vat(amount, prc)) for prc, amount in sorted(turnover.items()))
