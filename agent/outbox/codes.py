"""Stable machine-readable error codes (ReceiptResult.error.code, health; docs/errors.md)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "QUEUE_EXPIRED",
    "REFUND_EXCEEDS_DRAWER",
    "REFUND_EXCEEDS_DRAWER_ADVICE",
    "error_code",
]

REFUND_EXCEEDS_DRAWER: Final = "refund_exceeds_drawer"
REFUND_EXCEEDS_DRAWER_ADVICE: Final = (
    "the drawer holds less cash than this refund pays out: put cash in the drawer"
    " (POST /api/v1/cash, direction in), then send the same request again"
)

QUEUE_EXPIRED: Final = "queue_expired"
"""A row withdrawn while still pending (:meth:`agent.outbox.store.Outbox.withdraw`): its caller
was told it failed and sends it again itself, so it is not counted as a failed payment."""


def error_code(exc: BaseException) -> str:
    """A stable machine-readable code for an error (ReceiptResult.error.code, health)."""
    code = getattr(exc, "public_code", None)
    if isinstance(code, str):
        return code
    name = type(exc).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
