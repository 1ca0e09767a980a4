"""The SmartOne driver's parameters, and the keys of its cash documents. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from types import MappingProxyType
from typing import Final

from agent.domain.receipt import VatRate
from agent.drivers.smartone.envelope import is_merchant_id

__all__ = ["DEFAULT_URL", "SmartOneParams", "cash_key", "masked"]

DEFAULT_URL: Final = "http://127.0.0.1:8008"
"""The cashbox's local API (its spec's default base)."""


def masked(merchant_id: str) -> str:
    """The merchant id as logs may show it: the first 8 characters and an ellipsis."""
    return merchant_id[:8] + "…"


def cash_key(kind: str, shift: int | None, amount: int, drawer: int | None) -> str:
    """The ``documentExtID`` of a cash movement the interface gives no key for.

    Derived from what the operation is and the state it starts from: the kind, the shift, the
    amount and the drawer's balance before it. A retry of the same movement (the drawer
    unchanged because the first try did not run, or the cashbox answering the first try's
    document) gets the same key; a second movement of the same amount in the same shift
    starts from another balance and gets a new one (docs/smartone-driver.md "Cash").
    """
    text = f"{kind}/{shift}/{amount}/{drawer}"
    digest = hashlib.sha1(text.encode("ascii"), usedforsecurity=False).hexdigest()[:16]
    return f"{kind}-{shift}-{digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmartOneParams:
    """How to reach the cashbox and how to drive it.

    ``merchant_id``: the 32 hex characters the cashbox signs with (required; logged masked).
    ``read_timeout_s``: one HTTP exchange of a read or a shift/cash route.
    ``sale_timeout_s``: one ``/sale`` or ``/refund``: a card part waits for the customer.
    ``poll_interval_s``: the first pause between two ``/check_status`` polls (doubling up to
    5 s); ``processing_timeout_s``: how long a document may stay "in progress" (code 44,
    ``docStatus`` 0) before the driver reports its outcome unknown.
    ``resend_delay_s``: the pause before the one resend of a request whose answer was lost.
    ``employee_name``: the cashier on every document (None: the receipt's cashier).
    ``withdraw_before_z``: collect the drawer's cash with a ``/withdraw`` when a Z is
    refused for it (code 27), then close again.
    ``open_orders_operation``: ``/close_shift``'s ``openOrdersOperation`` (None: not sent,
    the cashbox's "check": refuse when unclosed invoices remain).
    ``zone``: the cashbox's wall-clock zone (None: UTC).
    ``tax_rate_codes``: the config's rate -> row map: the rates the driver reports as its
    tax table and counts VAT for.
    """

    url: str = DEFAULT_URL
    merchant_id: str
    read_timeout_s: float = 10.0
    sale_timeout_s: float = 90.0
    poll_interval_s: float = 1.0
    processing_timeout_s: float = 120.0
    resend_delay_s: float = 1.5
    employee_name: str | None = None
    withdraw_before_z: bool = False
    open_orders_operation: str | None = None
    zone: tzinfo | None = None
    tax_rate_codes: Mapping[VatRate, int] = field(
        default_factory=lambda: MappingProxyType({rate: rate.value for rate in VatRate})
    )

    def __post_init__(self) -> None:
        if not is_merchant_id(self.merchant_id):
            msg = (
                "[smartone] merchant_id must be the 32 hex characters the cashbox was"
                f" registered with (got {len(self.merchant_id)} characters)"
            )
            raise ValueError(msg)
