"""Why the register model refuses an operation: neutral reasons, mapped to codes by front ends.

The Shtrih front end (``firmware_sim.device``) maps a :class:`Reason` to a Shtrih error byte,
the ATOL front end (``firmware_sim.atol``) to an ATOL driver error code. The model raises
:class:`RegisterRefusal` before anything changes, so a refused operation leaves the state as
it was.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Reason", "RegisterRefusal"]


class Reason(Enum):
    """A refusal's cause, independent of any wire protocol."""

    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    PRINTING = "printing"  # the printer is still busy with the previous document
    SHIFT_CLOSED = "shift_closed"
    SHIFT_OPEN = "shift_open"  # e.g. opening a shift twice
    SHIFT_EXPIRED = "shift_expired"  # open for more than 24 hours on the register clock
    RECEIPT_OPEN = "receipt_open"
    NO_RECEIPT = "no_receipt"
    WRONG_RECEIPT_KIND = "wrong_receipt_kind"  # a refund line in a sale or the reverse
    ZERO_TOTAL = "zero_total"
    UNDERPAID = "underpaid"  # payments below the receipt total
    NON_CASH_ABOVE_TOTAL = "non_cash_above_total"
    NOT_ENOUGH_CASH = "not_enough_cash"  # cash out or a cash refund above the drawer
    TOTAL_OVERFLOW = "total_overflow"
    BAD_PARAMETERS = "bad_parameters"
    FN_EXPIRED = "fn_expired"
    NO_DOCUMENT = "no_document"  # no fiscal document with that number


class RegisterRefusal(Exception):
    """The register model refuses an operation; raised before any state changes."""

    def __init__(self, reason: Reason, message: str = "") -> None:
        self.reason = reason
        self.message = message or reason.value
        super().__init__(f"refused: {reason.value}{': ' + message if message else ''}")
