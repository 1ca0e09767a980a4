"""The shift counters ``/x_report`` and ``/close_shift`` answer with (pure).

Field names as in docs/smartone-notes.md §6.3: ``sale*`` for sales, ``moneyBack*`` for refunds,
``deposit*``/``withdraw*`` for cash in/out, ``*VatAmounts`` as ``[{vatPercent, vatAmount}]``
(percent ×100, VAT in qəpik, by rate). Credit and bonus sums: the simulator takes no credit
payments and counts ``otherAmount`` as bonus.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firmware_sim.smartone.records import DocumentRecord, Operation

__all__ = ["shift_counters"]


def _vat(records: list[DocumentRecord]) -> list[dict[str, int]]:
    by_rate: dict[int, int] = {}
    for record in records:
        for prc, vat in record.vat:
            by_rate[prc] = by_rate.get(prc, 0) + vat
    return [{"vatPercent": prc, "vatAmount": vat} for prc, vat in sorted(by_rate.items())]


def _receipts(prefix: str, records: list[DocumentRecord]) -> dict[str, Any]:
    return {
        f"{prefix}Count": len(records),
        f"{prefix}Sum": sum(r.total for r in records),
        f"{prefix}CashSum": sum(r.cash for r in records),
        f"{prefix}CashlessSum": sum(r.cashless for r in records),
        f"{prefix}CreditSum": 0,
        f"{prefix}BonusSum": sum(r.other for r in records),
        f"{prefix}VatAmounts": _vat(records),
    }


def shift_counters(records: Iterable[DocumentRecord]) -> dict[str, Any]:
    """The counters of one shift's documents."""
    by_op: dict[Operation, list[DocumentRecord]] = {op: [] for op in Operation}
    for record in records:
        by_op[record.operation].append(record)
    deposits, withdraws = by_op[Operation.DEPOSIT], by_op[Operation.WITHDRAW]
    return {
        **_receipts("sale", by_op[Operation.SALE]),
        **_receipts("moneyBack", by_op[Operation.REFUND]),
        "depositCount": len(deposits),
        "depositSum": sum(r.total for r in deposits),
        "withdrawCount": len(withdraws),
        "withdrawSum": sum(r.total for r in withdraws),
    }
