"""A receipt printed at the register past the agent: a cashier at the keyboard, another program.

The commands go straight to the simulator's device (``Device.handle``), not through the
agent's driver or the rig's wire, so the agent sees nothing of them until it reads the FN.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.drivers.shtrih.commands import (
    FN_PAYMENT_TYPES,
    AddOperationRequest,
    CloseReceiptRequest,
    OperationType,
    Request,
    encode,
)
from firmware_sim.device import Device

__all__ = ["print_by_hand"]

SYSADMIN = 30
_TAX_ROW_NONE = 4  # the default table's "без НДС" row
_USN_INCOME = 0x02  # tag 1055 bit of the simplified system on income
_FULL_SETTLEMENT = 4  # tag 1214
_COMMODITY = 1  # tag 1212
_FF45_FD = slice(8, 12)  # err, code (2), change (5), FD (4)


def _send(device: Device, request: Request) -> bytes:
    answer = device.handle(encode(request), datetime.now(UTC))
    assert answer[2] == 0, f"the register refused {request.command!r}: {answer.hex(' ')}"
    return answer


def print_by_hand(
    device: Device, *, price: int, cash: int = 0, card: int = 0, refund: bool = False
) -> int:
    """One line of ``price`` kopecks paid with ``cash`` (the rest of it is change) and ``card``.

    Returns the FD the FN gave it. The receipt carries no mark (nobody named a request).
    """
    operation = OperationType.INCOME_RETURN if refund else OperationType.INCOME
    _send(
        device,
        AddOperationRequest(
            password=SYSADMIN,
            operation=operation,
            quantity=1_000_000,
            price=price,
            amount=price,
            tax_rate=_TAX_ROW_NONE,
            payment_method=_FULL_SETTLEMENT,
            payment_subject=_COMMODITY,
            name="Чай (за стойкой)",
        ),
    )
    payments = [0] * FN_PAYMENT_TYPES
    payments[0], payments[1] = cash, card
    answer = _send(
        device,
        CloseReceiptRequest(password=SYSADMIN, payments=tuple(payments), tax_system=_USN_INCOME),
    )
    return int.from_bytes(answer[_FF45_FD], "little")
