"""Domain receipts for unit tests: goods lines at given prices and rates, paid in cash."""

from __future__ import annotations

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
from agent.drivers.interface import ReceiptRef

__all__ = ["goods_receipt", "paid_receipt", "receipt_ref"]


def receipt_ref(mark: str, attempt: int = 1) -> ReceiptRef:
    """The ref of a request whose id is its mark (as the outbox sends it), try ``attempt``."""
    return ReceiptRef(id=mark, mark=mark, attempt=attempt)


def goods_receipt(
    *lines: tuple[int, VatRate], cash: int | None = None, name: str = "Кофе"
) -> Receipt:
    """A sale of goods, one unit per ``(price in kopecks, rate)`` line, paid in cash.

    ``cash`` defaults to the exact total; more than the total is change.
    """
    items = tuple(
        Item(
            name=name,
            qty=Micros(1_000_000),
            price=Kopecks(price),
            vat=vat,
            subject=PaymentSubject.COMMODITY,
            method=PaymentMethod.FULL_SETTLEMENT,
        )
        for price, vat in lines
    )
    paid = sum(price for price, _ in lines) if cash is None else cash
    return Receipt(
        kind=ReceiptKind.SALE,
        category=Category.GOODS,
        tax_system=TaxSystem.USN_INCOME,
        items=items,
        payments=Payments(cash=Kopecks(paid)),
        cashier=Cashier(name="Иванов"),
    )


def paid_receipt(
    *lines: tuple[int, VatRate],
    payments: Payments,
    kind: ReceiptKind = ReceiptKind.SALE,
    name: str = "Кофе",
) -> Receipt:
    """:func:`goods_receipt` of ``kind`` with the given payments (card, prepaid, mixed)."""
    plain = goods_receipt(*lines, name=name)
    return Receipt(
        kind=kind,
        category=plain.category,
        tax_system=plain.tax_system,
        items=plain.items,
        payments=payments,
        cashier=plain.cashier,
    )
