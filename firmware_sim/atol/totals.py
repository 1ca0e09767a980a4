"""``getShiftTotals`` and ``ofdExchangeStatus`` from the register model (docs/atol-web-notes.md §6).

Pure. ``ofdExchangeStatus`` has the shape the public references give; ``getShiftTotals``'
shape is not in them, so it is the one the agent's ATOL driver reads (*unconfirmed on real
hardware*): ``{"shiftTotals": {"shiftNumber", "cashDrawer": {"sum"}, "income": {"sum"},
"outcome": {"sum"}, "receipts": {"sell"|"sellReturn": {"count", "sum", "payments": {"cash",
"electronically", "prepaid", "other"}, "taxes": {"vat22": {"sum", "turnover"}, ...}}}}}``,
money in roubles; ``taxes`` names every rate of the register's tax table by its ATOL
``tax.type`` (0 where the shift has none).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firmware_sim.atol.results import atol_tax_type, money
from firmware_sim.register import Register
from firmware_sim.register.core import (
    CASH_IN_SHIFT,
    CASH_OUT_SHIFT,
    DRAWER,
    RECEIPTS_BY_OP,
    payment_register,
)
from firmware_sim.state import DeviceState, ReceiptKind, TaxRate
from firmware_sim.vat import shift_vat

__all__ = ["ofd_exchange_status", "shift_totals"]

_CARD_TYPES = range(2, 14)
_PREPAID, _OTHER = 14, (15, 16)


def _taxes(state: DeviceState, tax_rates: tuple[TaxRate, ...], op: int) -> dict[str, Any]:
    rows = {row.code: row for row in shift_vat(dict(state.money), tax_rates, op)}
    out: dict[str, Any] = {}
    for rate in tax_rates:
        row = rows.get(rate.code)
        out[atol_tax_type(rate.code)] = {
            "sum": money(0 if row is None else row.vat),
            "turnover": money(0 if row is None else row.turnover),
        }
    return out


def _by_kind(
    state: DeviceState, tax_rates: tuple[TaxRate, ...], kind: ReceiptKind
) -> dict[str, Any]:
    op = kind.op_index

    def paid(payment_type: int) -> int:
        return state.money_register(payment_register(payment_type, op))

    cash = paid(1)
    card = sum(paid(t) for t in _CARD_TYPES)
    prepaid = paid(_PREPAID)
    other = sum(paid(t) for t in _OTHER)
    return {
        "count": state.operating_register(RECEIPTS_BY_OP + op),
        "sum": money(cash + card + prepaid + other),
        "payments": {
            "cash": money(cash),
            "electronically": money(card),
            "prepaid": money(prepaid),
            "other": money(other),
        },
        "taxes": _taxes(state, tax_rates, op),
    }


def shift_totals(register: Register, now: datetime) -> dict[str, Any]:
    """``getShiftTotals``: the shift's money by receipt kind and payment, cash moves, drawer."""
    status = register.shift_status(now)
    state = register.state
    rates = register.config.tax_rates
    return {
        "shiftTotals": {
            "shiftNumber": status.number,
            "cashDrawer": {"sum": money(state.money_register(DRAWER))},
            "income": {"sum": money(state.money_register(CASH_IN_SHIFT))},
            "outcome": {"sum": money(state.money_register(CASH_OUT_SHIFT))},
            "receipts": {
                "sell": _by_kind(state, rates, ReceiptKind.SALE),
                "sellReturn": _by_kind(state, rates, ReceiptKind.REFUND),
            },
        }
    }


def ofd_exchange_status(register: Register, now: datetime) -> dict[str, Any]:
    """``ofdExchangeStatus``: how many FN documents the OFD has not had, and the first one."""
    register.clock(now)
    state = register.state
    unsent = register.last_fd - state.ofd_acked_fd
    first = register.document(state.ofd_acked_fd + 1) if unsent > 0 else None
    return {
        "status": {
            "notSentCount": max(unsent, 0),
            "notSentFirstDocNumber": 0 if first is None else first.fd,
            "notSentFirstDocDateTime": None if first is None else first.issued_at.isoformat(),
            "lastSuccessKeysUpdate": None,
        },
        "errors": {},
        "warnings": {"dataForSendIsEmpty": unsent <= 0},
    }
