"""The reads ``getShiftTotals`` and ``ofdExchangeStatus`` on the register model. Pure.

``getShiftTotals``: the shift's money by receipt kind and payment type, cash in and out and
the drawer, in the layout of docs/atol-driver.md §4.5. ``ofdExchangeStatus``: the documents
the OFD has not acknowledged yet (docs/atol-web-notes.md's reads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firmware_sim.atol.results import money
from firmware_sim.register import Register
from firmware_sim.register.core import (
    CASH_IN_SHIFT,
    CASH_OUT_SHIFT,
    RECEIPTS_BY_OP,
    payment_register,
)
from firmware_sim.state import DeviceState, ReceiptKind

__all__ = ["ofd_exchange_status", "shift_totals"]

PREPAID, CARD_TYPES, OTHER_TYPES = 14, range(2, 14), (15, 16)


def _kind_totals(state: DeviceState, op: int) -> dict[str, Any]:
    def paid(payment_type: int) -> int:
        return state.money_register(payment_register(payment_type, op))

    cash, prepaid = paid(1), paid(PREPAID)
    card = sum(paid(t) for t in CARD_TYPES)
    other = sum(paid(t) for t in OTHER_TYPES)
    return {
        "count": state.operating_register(RECEIPTS_BY_OP + op),
        "sum": money(cash + card + prepaid + other),
        "payments": {
            "cash": money(cash),
            "electronically": money(card),
            "prepaid": money(prepaid),
            "other": money(other),
        },
    }


def shift_totals(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``getShiftTotals``."""
    status = register.shift_status(now)
    state = register.state
    return {
        "shiftTotals": {
            "shiftNumber": status.number,
            "cashDrawer": {"sum": money(register.cash_in_drawer)},
            "income": {"sum": money(state.money_register(CASH_IN_SHIFT))},
            "outcome": {"sum": money(state.money_register(CASH_OUT_SHIFT))},
            "receipts": {
                "sell": _kind_totals(state, ReceiptKind.SALE.op_index),
                "sellReturn": _kind_totals(state, ReceiptKind.REFUND.op_index),
            },
        }
    }


def ofd_exchange_status(register: Register, _task: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``ofdExchangeStatus``: the FDs after the last one the OFD acknowledged."""
    register.clock(now)
    state = register.state
    unsent = [doc for doc in state.documents if doc.fd > state.ofd_acked_fd]
    first = unsent[0] if unsent else None
    return {
        "status": {
            "notSentCount": len(unsent),
            "notSentFirstDocNumber": 0 if first is None else first.fd,
            "notSentFirstDocDateTime": None if first is None else first.issued_at.isoformat(),
        },
        "warnings": {"dataForSendIsEmpty": not unsent},
    }
