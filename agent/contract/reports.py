"""ShiftReport (docs/contract.md v1, topic ``evt/shift``): at every open, close (Z) and X report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.contract._types import Money, RequestId, Timestamp, VatName

__all__ = ["PaymentCounters", "ShiftCounters", "ShiftReport"]

_RESULT = ConfigDict(extra="ignore", frozen=True)


class PaymentCounters(BaseModel):
    """Money by payment type and receipt count for one calculation sign (sales or refunds).

    ``cash`` is net of change, as the register counts it. v1.1 adds ``cash_received`` (the
    cash handed over) and ``change`` (the cash given back) beside it: received - change =
    cash. docs/contract.md says where the change comes from; both are absent from a report
    of an older agent.
    """

    model_config = _RESULT

    cash: Money
    card: Money
    prepaid: Money
    count: int
    vat: dict[VatName, Money] | None = None  # v1.1: VAT per rate in the shift
    cash_received: Money | None = None  # v1.1
    change: Money | None = None  # v1.1


class ShiftCounters(BaseModel):
    """The shift's registers as the X or Z report shows them."""

    model_config = _RESULT

    sales: PaymentCounters
    refunds: PaymentCounters
    cash_in: Money
    cash_out: Money
    cash_in_drawer: Money
    first_fd: int | None = None
    last_fd: int | None = None


class ShiftReport(BaseModel):
    """A shift opened, closed (Z) or read (X).

    docs/contract.md v1::

        kind        "open" | "x" | "z"
        shift       shift number on the register
        fn          FN serial
        opened_at, closed_at?
        counters    {sales: {cash, card, prepaid, count}, refunds: {cash, card, prepaid, count},
                     cash_in, cash_out, cash_in_drawer, first_fd, last_fd}
        auto        true when the agent closed the shift itself (24-hour guard)
        request_id? the cmd/shift id that asked for this report (v1.1)
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "z",
                    "shift": 12,
                    "fn": "9289000100346765",
                    "opened_at": "2026-01-05T09:00:00+03:00",
                    "closed_at": "2026-01-06T08:30:00+03:00",
                    "counters": {
                        "sales": {
                            "cash": "12500.00",
                            "card": "48200.50",
                            "prepaid": "3000.00",
                            "count": 87,
                            "cash_received": "13750.00",
                            "change": "1250.00",
                        },
                        "refunds": {
                            "cash": "300.00",
                            "card": "0.00",
                            "prepaid": "0.00",
                            "count": 1,
                            "cash_received": "300.00",
                            "change": "0.00",
                        },
                        "cash_in": "2000.00",
                        "cash_out": "10000.00",
                        "cash_in_drawer": "4200.00",
                        "first_fd": 97574,
                        "last_fd": 97662,
                    },
                    "auto": False,
                    "request_id": "shift-20260106-close",
                }
            ]
        },
    )

    kind: Literal["open", "x", "z"]
    shift: int
    fn: str
    opened_at: Timestamp
    closed_at: Timestamp | None = None
    counters: ShiftCounters
    auto: bool = False
    request_id: RequestId | None = None  # v1.1: the cmd/shift id that asked for it
