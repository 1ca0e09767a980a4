"""Money and quantities as integers: kopecks and millionths of a unit. Never floats."""

from __future__ import annotations

from typing import NewType

__all__ = ["QTY_SCALE", "Kopecks", "Micros", "line_amount"]

Kopecks = NewType("Kopecks", int)
"""An amount in kopecks (1/100 rouble)."""

Micros = NewType("Micros", int)
"""A quantity in millionths of a unit: FF46 carries quantity x 10^6 (spec117)."""

QTY_SCALE = 1_000_000


def line_amount(price: Kopecks, qty: Micros) -> Kopecks:
    """Price x quantity rounded half up to the kopeck, as the register computes it."""
    return Kopecks((price * qty + QTY_SCALE // 2) // QTY_SCALE)
