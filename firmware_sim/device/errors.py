"""The register model's neutral refusals as Shtrih-M error bytes (§2.11).

Most reasons have one Shtrih code; a few differ by command, as on the hardware: the FN
commands (FF xx) answer a shift past 24 hours with FN 0x16 where classic commands answer 0x4E.
"""

from __future__ import annotations

from firmware_sim.commands import Command, ErrorCode
from firmware_sim.register import Reason

__all__ = ["shtrih_code"]

_CODES: dict[Reason, ErrorCode] = {
    Reason.PAPER_OUT: ErrorCode.NO_PAPER,
    Reason.COVER_OPEN: ErrorCode.NO_PAPER,
    Reason.PRINTING: ErrorCode.PRINTING,
    Reason.SHIFT_CLOSED: ErrorCode.SHIFT_NOT_OPEN,
    Reason.SHIFT_OPEN: ErrorCode.FN_BAD_STATE,
    Reason.SHIFT_EXPIRED: ErrorCode.SHIFT_OVER_24H,
    Reason.RECEIPT_OPEN: ErrorCode.RECEIPT_OPEN,
    Reason.NO_RECEIPT: ErrorCode.RECEIPT_CLOSED,
    Reason.WRONG_RECEIPT_KIND: ErrorCode.WRONG_RECEIPT_TYPE,
    Reason.ZERO_TOTAL: ErrorCode.ZERO_TOTAL,
    Reason.UNDERPAID: ErrorCode.PAYMENTS_BELOW_TOTAL,
    Reason.NON_CASH_ABOVE_TOTAL: ErrorCode.NON_CASH_ABOVE_TOTAL,
    Reason.NOT_ENOUGH_CASH: ErrorCode.NOT_ENOUGH_CASH,
    Reason.TOTAL_OVERFLOW: ErrorCode.RECEIPT_TOTAL_OVERFLOW,
    Reason.BAD_PARAMETERS: ErrorCode.BAD_PARAMETERS,
    Reason.FN_EXPIRED: ErrorCode.FN_EXPIRED,
    Reason.NO_DOCUMENT: ErrorCode.FN_NO_DATA,
}

_BY_COMMAND: dict[tuple[int, Reason], ErrorCode] = {
    (Command.FN_CLOSE_RECEIPT_V2, Reason.SHIFT_EXPIRED): ErrorCode.FN_SHIFT_OVER_24H,
    (Command.FN_BEGIN_OPEN_SHIFT, Reason.SHIFT_EXPIRED): ErrorCode.FN_SHIFT_OVER_24H,
}


def shtrih_code(command: int, reason: Reason) -> ErrorCode:
    """The error byte a Shtrih-M register answers ``command`` with for ``reason``."""
    return _BY_COMMAND.get((command, reason), _CODES[reason])
