"""Request bodies as a CRM sends them, for the scenario tests, the benchmark and the demo."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["line_kopecks", "money", "receipt"]


def money(kopecks: int) -> str:
    """Kopecks as the contract's decimal string: 15000 -> "150.00"."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def line_kopecks(item: dict[str, Any]) -> int:
    """A line's amount as the register computes it: price x quantity, half up to the kopeck.

    Decimal, never float: 150.00 x 0.5 is 75.00 exactly, and 0.05 x 0.5 rounds up to 0.03.
    """
    amount = Decimal(item["price"]) * Decimal(item["qty"])
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def receipt(
    request_id: str,
    kopecks: int,
    *,
    pay: str = "cash",
    extra_cash: int = 0,
    extra_items: list[dict[str, Any]] | None = None,
    vat: str = "vat22",
) -> dict[str, Any]:
    """A goods receipt: one coffee at ``kopecks`` (plus ``extra_items``), paid with ``pay``.

    Cash pays the exact total plus ``extra_cash`` (the change); other payment types pay the
    exact total. The coffee's line carries ``vat`` (Russia's 22 % unless told: Azerbaijan's
    is ``vat18``).
    """
    items = [{"name": "Кофе", "qty": "1", "price": money(kopecks), "vat": vat}]
    items += extra_items or []
    total = kopecks + sum(line_kopecks(item) for item in extra_items or [])
    amount = total + (extra_cash if pay == "cash" else 0)
    return {
        "id": request_id,
        "kind": "sale",
        "category": "goods",
        "items": items,
        "payments": {pay: money(amount)},
    }
