"""A receipt task (``sell``, ``sellReturn``, ``sellCorrection``) as register items and payments.

Parses the JSON task of docs/atol-web-notes.md §3 into the neutral model's terms; raises
:class:`AtolError` 501 on a task it cannot read, 16/17 on bad sums or quantities, 143/144 on
an unknown taxation or tax type. Money arrives as numbers of roubles and is rounded to the
kopeck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from firmware_sim.atol.errors import AtolCode, AtolError
from firmware_sim.state import (
    CASH,
    CREDIT,
    PREPAID,
    PROVISION,
    DocumentTags,
    Item,
    Mark,
    ReceiptKind,
    TaxRate,
)

__all__ = ["ReceiptOrder", "kopecks", "parse_receipt", "tags_of"]

ELECTRONIC = 2
_KINDS = {
    "sell": ReceiptKind.SALE,
    "sellReturn": ReceiptKind.REFUND,
    "sellCorrection": ReceiptKind.SALE,
    "sellReturnCorrection": ReceiptKind.REFUND,
}
_PAYMENT_TYPES = {
    "cash": CASH,
    "0": CASH,
    "electronically": ELECTRONIC,
    "1": ELECTRONIC,
    "prepaid": PREPAID,
    "2": PREPAID,
    "credit": CREDIT,
    "3": CREDIT,
    "other": PROVISION,
    "4": PROVISION,
}
_TAXATION = {  # tag 1055 bits
    "osn": 1,
    "usnIncome": 2,
    "usnIncomeOutcome": 4,
    "envd": 8,
    "esn": 16,
    "patent": 32,
}
_TAX_CODES = {  # ATOL tax.type -> the register's tax-table code
    "none": "none",
    "vat0": "vat0",
    "vat5": "vat5",
    "vat7": "vat7",
    "vat10": "vat10",
    "vat20": "vat20",
    "vat22": "vat22",
    "vat105": "vat5_105",
    "vat107": "vat7_107",
    "vat110": "vat10_110",
    "vat120": "vat20_120",
    "vat122": "vat22_122",
}
_METHODS = {  # tag 1214
    "fullPrepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "fullPayment": 4,
    "partialPayment": 5,
    "credit": 6,
    "creditPayment": 7,
}
_SUBJECTS = {  # tag 1212, the names clubs need
    "commodity": 1,
    "excise": 2,
    "job": 3,
    "service": 4,
    "payment": 10,
    "agentCommission": 11,
    "composite": 12,
    "another": 13,
    "deposit": 19,
}
MAX_MARK_NAME, MAX_MARK_VALUE = 64, 256


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptOrder:
    """A receipt task in the register model's terms."""

    kind: ReceiptKind
    items: list[Item]
    payments: list[int]  # by FN payment type, cash first (16 slots)
    tax_system: int | None
    tags: DocumentTags
    is_correction: bool = False


def kopecks(value: Any, *, what: str, code: int = AtolCode.INVALID_SUM) -> int:  # noqa: ANN401 - JSON
    """A JSON number of roubles as kopecks (half up); AtolError ``code`` when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AtolError(code, f"{what}: not a number")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise AtolError(code, f"{what}: not a number") from exc
    if amount < 0:
        raise AtolError(code, f"{what}: negative")
    return int(amount * 100)


def _qty_micro(value: Any) -> int:  # noqa: ANN401 - JSON
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AtolError(AtolCode.INVALID_QUANTITY)
    try:
        qty = Decimal(str(value))
    except InvalidOperation as exc:
        raise AtolError(AtolCode.INVALID_QUANTITY) from exc
    micro = int((qty * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))
    if micro <= 0:
        raise AtolError(AtolCode.INVALID_QUANTITY)
    return micro


def _object(value: Any, what: str) -> dict[str, Any]:  # noqa: ANN401 - JSON
    if not isinstance(value, dict):
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, f"{what} must be an object")
    return value


def _mark(raw: dict[str, Any]) -> Mark:
    name, value = raw.get("name"), raw.get("value")
    if not isinstance(name, str) or not isinstance(value, str):
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "userAttribute needs name and value")
    if not 0 < len(name) <= MAX_MARK_NAME or not 0 < len(value) <= MAX_MARK_VALUE:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "userAttribute name or value length")
    return Mark(name=name, value=value)


def tags_of(task: dict[str, Any]) -> DocumentTags:
    """The cashier (``operator``, tags 1021/1203) of any fiscal task."""
    operator = task.get("operator")
    if operator is None:
        return DocumentTags()
    operator = _object(operator, "operator")
    name, vatin = operator.get("name"), operator.get("vatin")
    return DocumentTags(
        cashier=name if isinstance(name, str) and name else None,
        cashier_inn=vatin if isinstance(vatin, str) and vatin else None,
    )


def _tax_index(raw: dict[str, Any], rates: tuple[TaxRate, ...]) -> tuple[int, str]:
    tax = _object(raw.get("tax", {"type": "none"}), "tax")
    code = _TAX_CODES.get(str(tax.get("type")))
    row = next((rate for rate in rates if rate.code == code), None)
    if row is None:
        raise AtolError(AtolCode.INVALID_TAX_TYPE, f"tax type {tax.get('type')!r}")
    return row.index, row.code


def _position(raw: dict[str, Any], rates: tuple[TaxRate, ...]) -> Item:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "position needs a name")
    price = kopecks(raw.get("price"), what="price")
    qty = _qty_micro(raw.get("quantity", 1))
    computed = (price * qty + 500_000) // 1_000_000
    amount = computed if raw.get("amount") is None else kopecks(raw["amount"], what="amount")
    if amount > computed + 1:
        raise AtolError(AtolCode.INVALID_SUM, "amount above price x quantity")
    index, code = _tax_index(raw, rates)
    method = _METHODS.get(str(raw.get("paymentMethod", "fullPayment")))
    subject = raw.get("paymentObject", "commodity")
    subject_code = subject if isinstance(subject, int) else _SUBJECTS.get(str(subject))
    if method is None or subject_code is None or not 1 <= subject_code <= 33:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "paymentMethod or paymentObject")
    department = raw.get("department", 1)
    if not isinstance(department, int) or isinstance(department, bool) or department < 0:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "department")
    return Item(
        name=name,
        qty_micro=qty,
        price=price,
        amount=amount,
        tax_index=index,
        vat=code,
        department=department,
        method=method,
        subject=subject_code,
    )


def _payments(raw: Any) -> list[int]:  # noqa: ANN401 - JSON
    if not isinstance(raw, list) or not raw:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "payments must be a non-empty list")
    sums = [0] * 16
    for each in raw:
        entry = _object(each, "payment")
        slot = _PAYMENT_TYPES.get(str(entry.get("type")))
        if slot is None:
            raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, f"payment type {entry.get('type')!r}")
        sums[slot - 1] += kopecks(entry.get("sum"), what="payment sum")
    return sums


def _correction(task: dict[str, Any], tags: DocumentTags) -> DocumentTags:
    kind = task.get("correctionType", "self")
    base = task.get("correctionBaseDate")
    if kind not in ("self", "instruction") or not isinstance(base, str):
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "correctionType, correctionBaseDate")
    try:
        settled = date(*(int(part) for part in base.replace("-", ".").split(".")))
    except (TypeError, ValueError) as exc:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "correctionBaseDate yyyy.mm.dd") from exc
    return DocumentTags(
        cashier=tags.cashier,
        cashier_inn=tags.cashier_inn,
        has_contact=tags.has_contact,
        mark=tags.mark,
        correction_type=0 if kind == "self" else 1,
        correction_date=settled,
    )


def parse_receipt(task: dict[str, Any], rates: tuple[TaxRate, ...]) -> ReceiptOrder:
    """Read a ``sell``/``sellReturn``/``sellCorrection`` task."""
    kind = _KINDS[str(task["type"])]
    raw_items = task.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "items must be a non-empty list")
    items: list[Item] = []
    mark: Mark | None = None
    for each in raw_items:
        raw = _object(each, "item")
        if raw.get("type") == "position":
            items.append(_position(raw, rates))
        elif raw.get("type") == "userAttribute":
            mark = _mark(raw)
        # print items (text, barcode, ...) carry nothing fiscal
    if not items:
        raise AtolError(AtolCode.RECEIPT_PARSE_ERROR, "no position in items")
    if isinstance(task.get("userAttribute"), dict):  # also accepted at receipt level
        mark = _mark(task["userAttribute"])
    taxation = task.get("taxationType")
    tax_system = None if taxation is None else _TAXATION.get(str(taxation))
    if taxation is not None and tax_system is None:
        raise AtolError(AtolCode.INVALID_TAXATION_TYPE, f"taxationType {taxation!r}")
    client = task.get("clientInfo")
    has_contact = isinstance(client, dict) and bool(client.get("emailOrPhone"))
    cashier = tags_of(task)
    tags = DocumentTags(
        cashier=cashier.cashier, cashier_inn=cashier.cashier_inn, has_contact=has_contact, mark=mark
    )
    is_correction = str(task["type"]).endswith("Correction")
    if is_correction:
        tags = _correction(task, tags)
    return ReceiptOrder(
        kind=kind,
        items=items,
        payments=_payments(task.get("payments")),
        tax_system=tax_system,
        tags=tags,
        is_correction=is_correction,
    )
