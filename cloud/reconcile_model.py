"""The reconciliation's inputs and outputs: plain frozen dataclasses, money in integer kopecks.

docs/contract.md, "Cloud HTTP API": the reconciliation of one agent's shift is rows
``{id, status, crm, fiscal}`` with status ``matched``, ``crm_only`` or ``register_only``, and
four totals, each ``{cash, card, prepaid, total}``. Nothing here does I/O or knows pydantic;
:mod:`cloud.reconcile_contract` converts from the agent's contract models and to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, NamedTuple, NewType

__all__ = [
    "Adoption",
    "AppTransaction",
    "CrmRequest",
    "Fiscal",
    "Kind",
    "Kopecks",
    "PaymentCounters",
    "PaymentTotals",
    "Payments",
    "Reconciliation",
    "RegisterDocument",
    "RequestOutcome",
    "Row",
    "RowStatus",
    "ShiftCounters",
    "ShiftWindow",
    "Totals",
]

Kopecks = NewType("Kopecks", int)
"""Money inside the reconciliation: integer kopecks, signed where a refund subtracts."""

REGISTER_TIME_STEP: Final = timedelta(minutes=1)
"""An FN's document times are whole minutes."""


class Kind(StrEnum):
    """The calculation sign (tag 1054): a sale is 1 in the QR string, a refund 2."""

    SALE = "sale"
    REFUND = "refund"


class RowStatus(StrEnum):
    """What a row of the reconciliation is (docs/contract.md, cloud HTTP API)."""

    MATCHED = "matched"  # the CRM sent it and the register printed it
    CRM_ONLY = "crm_only"  # the CRM sent it and no fiscal document for it is known
    REGISTER_ONLY = "register_only"  # a document on the FN tape the CRM never sent


class Payments(NamedTuple):
    """How a payment was tendered; cash may exceed the total (the rest is change).

    This and the other records a shift has one of per payment (CrmRequest, Fiscal,
    RequestOutcome) are NamedTuples, as :class:`Row` is: the store builds 100,000 of each
    for a large shift, and a frozen dataclass takes three times as long to build.
    """

    cash: Kopecks = Kopecks(0)
    card: Kopecks = Kopecks(0)
    prepaid: Kopecks = Kopecks(0)


class CrmRequest(NamedTuple):
    """A ``cmd/receipt`` the CRM sent: what the CRM believes the register should print.

    ``total`` is the receipt total (the sum of its items); ``payments`` as sent, so cash may
    exceed it. ``received_at`` is when the cloud got it; ``paid_at`` the CRM's own time of the
    payment when it gave one.
    """

    club: str
    agent: str
    id: str
    kind: Kind
    payments: Payments
    total: Kopecks
    received_at: datetime
    paid_at: datetime | None = None

    @property
    def at(self) -> datetime:
        """The time that places the request in a shift: ``paid_at``, else ``received_at``."""
        return self.paid_at if self.paid_at is not None else self.received_at


class Fiscal(NamedTuple):
    """A signed fiscal document: ``doc_id`` is ``"<FN>:<FD>"`` on a Russian FN.

    ``fp`` is absent for a document read back from the tape without its FPD; ``kind`` is
    absent on a result (the request says it).
    """

    fn: str
    fd: int
    fp: int | None
    total: Kopecks
    issued_at: datetime
    doc_id: str
    shift: int
    kind: Kind | None = None
    type: str = "receipt"
    mark: str | None = None


class RequestOutcome(NamedTuple):
    """An ``evt/receipt``: ``status`` done with ``fiscal``, or rejected / failed / unknown."""

    id: str
    status: str
    fiscal: Fiscal | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """A register-only document taken into the CRM by a person (``POST .../adopt/{doc_id}``)."""

    by: str
    reason: str
    at: datetime
    role: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterDocument:
    """An ``evt/document``: a document on the FN tape that the agent did not print.

    Only a calculation document (one with ``kind`` and ``total``) takes part in the
    reconciliation; shift openings and closings do not.
    """

    fn: str
    fd: int
    type: str
    shift: int
    issued_at: datetime
    kind: Kind | None = None
    total: Kopecks | None = None
    mark: str | None = None
    fp: int | None = None
    adopted: Adoption | None = None
    payments: Payments | None = None  # the split the FN holds (contract v1.1), when reported

    @property
    def doc_id(self) -> str:
        """``"<FN>:<FD>"``, as the agent names it."""
        return f"{self.fn}:{self.fd}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentCounters:
    """One calculation sign of a Z (or X) report; ``cash`` is net of change."""

    cash: Kopecks = Kopecks(0)
    card: Kopecks = Kopecks(0)
    prepaid: Kopecks = Kopecks(0)
    count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftCounters:
    """The shift's counters as the register reported them (ShiftReport.counters)."""

    sales: PaymentCounters = field(default_factory=PaymentCounters)
    refunds: PaymentCounters = field(default_factory=PaymentCounters)
    cash_in: Kopecks = Kopecks(0)
    cash_out: Kopecks = Kopecks(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftWindow:
    """One shift of one agent's register, and the time it claims CRM payments in.

    A payment belongs to the shift open at its time: ``opened_at <= at < claims_until``
    (``closed_at`` None: still open). ``claims_from`` widens the start back to the previous
    shift's close, so a payment taken while no shift was open counts in the shift the register
    opened next to print it (see :func:`cloud.reconcile.chain_windows`). ``fn`` None matches
    documents of any FN; set, the shift number is compared within that FN only. ``counters``
    are the Z report's (the last X report's while open), None before any report.
    """

    club: str
    agent: str
    number: int
    opened_at: datetime
    closed_at: datetime | None = None
    fn: str | None = None
    counters: ShiftCounters | None = None
    claims_from: datetime | None = None

    def claims(self, at: datetime) -> bool:
        """Whether a payment at ``at`` belongs to this shift."""
        start = self.claims_from if self.claims_from is not None else self.opened_at
        end = self.claims_until
        return start <= at and (end is None or at < end)

    @property
    def claims_until(self) -> datetime | None:
        """Where the shift's claim ends: the end of the minute it closed in.

        An FN keeps document times to the minute, so a Z at "14:48" may follow a payment taken
        at 14:48:04; the shift claims that whole minute. A shift rotated within one minute
        leaves that minute's payments to the closing shift (the next one claims from here).
        """
        if self.closed_at is None:
            return None
        return self.closed_at.replace(second=0, microsecond=0) + REGISTER_TIME_STEP

    def holds_document(self, fn: str, shift: int) -> bool:
        """Whether a document of FN ``fn`` in shift number ``shift`` was printed in this one."""
        return shift == self.number and (self.fn is None or fn == self.fn)


@dataclass(frozen=True, slots=True, kw_only=True)
class AppTransaction:
    """A CRM payment the register never sees (``POST .../transactions``: app payments)."""

    id: str
    kind: Kind
    payments: Payments
    at: datetime
    total: Kopecks | None = None  # None: the payments are the total (no change)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentTotals:
    """Money by payment kind, sales minus refunds, cash net of change."""

    cash: Kopecks = Kopecks(0)
    card: Kopecks = Kopecks(0)
    prepaid: Kopecks = Kopecks(0)

    @property
    def total(self) -> Kopecks:
        """The three summed."""
        return Kopecks(self.cash + self.card + self.prepaid)

    def __add__(self, other: PaymentTotals) -> PaymentTotals:
        return PaymentTotals(
            cash=Kopecks(self.cash + other.cash),
            card=Kopecks(self.card + other.card),
            prepaid=Kopecks(self.prepaid + other.prepaid),
        )

    def __sub__(self, other: PaymentTotals) -> PaymentTotals:
        return PaymentTotals(
            cash=Kopecks(self.cash - other.cash),
            card=Kopecks(self.card - other.card),
            prepaid=Kopecks(self.prepaid - other.prepaid),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """The four totals of docs/contract.md, and what is shown apart from them.

    ``z_register_total`` and ``difference`` are None while the shift has no report.
    ``cash_in`` / ``cash_out`` are the register's cash deposits and withdrawals (not sales);
    ``adopted_total`` is the register-only documents a person took into the CRM that carry
    no payment split (they stay in the difference, which is defined on what the CRM sent,
    so the reader sees both); an adopted document with its split counts in
    ``crm_register_total`` instead.
    ``fixed_later_total`` is the shift's payments that were printed late as correction
    receipts (docs/corrections.md): the Z's sales leave corrections out, so the difference
    leaves these out too. ``corrections_total`` is the correction receipts printed in this
    shift, whatever shift their payments belong to (shown apart: not in the Z's sales).
    """

    crm_register_total: PaymentTotals
    crm_grand_total: PaymentTotals
    z_register_total: PaymentTotals | None
    difference: PaymentTotals | None
    cash_in: Kopecks | None
    cash_out: Kopecks | None
    adopted_total: Kopecks
    fixed_later_total: PaymentTotals = field(default_factory=PaymentTotals)
    corrections_total: PaymentTotals = field(default_factory=PaymentTotals)


class Row(NamedTuple):
    """One line of the reconciliation.

    ``id`` is the request id, or the document's ``doc_id`` for a register-only row.
    ``outcome`` is the agent's last answer for the request when it is not ``done`` (a
    ``crm_only`` row with a failed or rejected result). ``other_shift`` is True when the two
    sides fall in different shifts (a payment of this shift printed in a later one, or the
    reverse): the row is matched, and the totals of each shift show the gap.
    ``adopted`` is set on a register-only row a person took into the CRM; its status stays
    ``register_only``. ``late`` is True on a matched row whose document is a correction
    receipt (the payment printed late, docs/corrections.md); the document's shift is where
    it was printed.

    A NamedTuple rather than a frozen dataclass: a shift has one row per payment, and building
    100,000 of them positionally takes a third of the time (bench/cloud_reconcile.py).
    """

    id: str
    status: RowStatus
    crm: CrmRequest | None
    fiscal: Fiscal | None
    outcome: RequestOutcome | None = None
    adopted: Adoption | None = None
    other_shift: bool = False
    late: bool = False

    @property
    def kind(self) -> Kind | None:
        """Sale or refund: the request's, else the document's."""
        if self.crm is not None:
            return self.crm.kind
        return self.fiscal.kind if self.fiscal is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciliation:
    """One agent's shift: its rows (in time order) and totals."""

    shift: ShiftWindow
    rows: tuple[Row, ...]
    totals: Totals
    ofd_url_template: str | None = None
