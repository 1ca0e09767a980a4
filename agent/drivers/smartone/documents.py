"""Cashbox replies as the interface's values: a document's FD, its payments, the shift. Pure.

docs/smartone-driver.md §3-§5 say why each rule is what it is.
"""

from __future__ import annotations

from agent.domain.money import Kopecks
from agent.domain.receipt import Payments
from agent.drivers.interface import ShiftState
from agent.drivers.smartone.replies import DocumentReply, ShiftReply

__all__ = ["document_fd", "document_payments", "shift_state"]


def shift_state(shift: ShiftReply) -> ShiftState:
    """OPEN or CLOSED: the cashbox flags no expired shift (the guard judges its age)."""
    return ShiftState.OPEN if shift.is_open else ShiftState.CLOSED


def document_fd(reply: DocumentReply) -> int:
    """``fiscalNum`` when it is a number, else the cashbox's ``documentID``, else 0."""
    if reply.fiscal_num is not None and reply.fiscal_num.isdigit():
        return int(reply.fiscal_num)
    return reply.document_id or 0


def document_payments(reply: DocumentReply) -> Payments:
    """``totalPayments`` by code (unconfirmed): cash, cashless/card, anything else prepaid."""
    cash = card = other = 0
    for code, amount in reply.payments:
        name = code.casefold()
        if name in ("cashless", "card", "bank"):
            card += amount
        elif name == "cash":
            cash += amount
        else:
            other += amount
    return Payments(cash=Kopecks(cash), card=Kopecks(card), prepaid=Kopecks(other))
