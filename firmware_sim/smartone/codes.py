"""The SmartOne cash box's ``code`` values the simulator answers with (docs/smartone-notes.md §8).

A reply is ``{"status": "success"|"error", "code": N, "message": ...}``; clients match on the
code. Neutral refusals of the register model map to codes here.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from firmware_sim.register import Reason

__all__ = ["SmartOneCode", "SmartOneError", "code_for", "reply"]


class SmartOneCode(IntEnum):
    """The codes the simulated cash box uses."""

    OK = 0
    AUTH_ERROR = 1  # the signature does not match the merchant id
    INVALID_JSON = 2  # the envelope: no data/sign, not Base64, not a JSON object
    BAD_PARAMETERS = 3  # required parameters missing or invalid
    AMOUNT_MISMATCH = 4  # amount != the sum of the lines
    INTERNAL_ERROR = 5
    SHIFT_NOT_OPEN = 6
    NOT_FULLY_PAID = 8
    NOT_FOUND = 9  # also: withdraw (or a cash refund) above the drawer
    CHANGE_FROM_CASH_ONLY = 11
    TAX_NOT_ALLOWED = 12
    DOCUMENT_NOT_PRINTED = 15  # the newer docs' meaning; the operation is committed
    REFUND_ITEM_NOT_IN_SALE = 18
    REFUND_QTY_ABOVE_LEFT = 19
    CLOSE_NO_TRANSACTIONS = 26
    CLOSE_CASH_IN_DRAWER = 27
    PROCESSING = 44  # the document is still being processed: poll /check_status


class SmartOneError(Exception):
    """A refusal the cash box answers with ``status: error`` and this code."""

    def __init__(self, code: int, message: str) -> None:
        self.code = int(code)
        self.message = message
        super().__init__(f"code {self.code}: {message}")


_BY_REASON: dict[Reason, SmartOneCode] = {
    Reason.SHIFT_CLOSED: SmartOneCode.SHIFT_NOT_OPEN,
    # No code is documented for a shift older than 24 hours: the simulator's choice is 6.
    Reason.SHIFT_EXPIRED: SmartOneCode.SHIFT_NOT_OPEN,
    Reason.UNDERPAID: SmartOneCode.NOT_FULLY_PAID,
    Reason.NON_CASH_ABOVE_TOTAL: SmartOneCode.CHANGE_FROM_CASH_ONLY,
    Reason.NOT_ENOUGH_CASH: SmartOneCode.NOT_FOUND,
    Reason.ZERO_TOTAL: SmartOneCode.BAD_PARAMETERS,
    Reason.BAD_PARAMETERS: SmartOneCode.BAD_PARAMETERS,
    Reason.TOTAL_OVERFLOW: SmartOneCode.BAD_PARAMETERS,
}


def code_for(reason: Reason) -> SmartOneCode:
    """The code a register refusal answers with (5, internal error, when none fits)."""
    return _BY_REASON.get(reason, SmartOneCode.INTERNAL_ERROR)


def reply(
    code: int = SmartOneCode.OK,
    message: str = "Success",
    **fields: Any,  # noqa: ANN401 - JSON
) -> dict[str, Any]:
    """A reply body: ``status`` success for code 0, error otherwise, then the route's fields."""
    status = "success" if code == SmartOneCode.OK else "error"
    return {"status": status, "code": int(code), "message": message, **fields}
