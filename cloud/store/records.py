"""What the store gives back and the one input that has no contract model (a CRM transaction).

Each record is the contract model as it arrived plus where it came from and when the cloud
received it. Money is the contract's Decimal in the models; the tables keep kopecks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agent.contract import FiscalDocument, Health, ReceiptRequest, ReceiptResult, ShiftReport

__all__ = [
    "Adoption",
    "AgentRecord",
    "AuditRecord",
    "DocumentRecord",
    "HealthChangeRecord",
    "RequestRecord",
    "ResultRecord",
    "ShiftReportRecord",
    "Transaction",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """A CRM transaction posted to ``/transactions`` (an app payment the register never sees)."""

    id: str
    amount: Decimal
    kind: str  # "sale" | "refund"
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """A ``cmd/receipt`` the CRM sent to an agent, as the cloud saw it."""

    club: str
    agent: str
    request: ReceiptRequest
    received_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRecord:
    """The latest ReceiptResult of one request id (a done one is never replaced)."""

    club: str
    agent: str
    result: ReceiptResult
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """Who took a ``register_only`` document into the CRM, and why."""

    by: str
    role: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRecord:
    """A document of the FN tape the agent did not issue (``evt/document``)."""

    club: str
    agent: str
    document: FiscalDocument
    received_at: datetime
    adoption: Adoption | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftReportRecord:
    """An open, X or Z report (the latest X of a shift)."""

    club: str
    agent: str
    report: ShiftReport
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRecord:
    """An agent's newest health by (boot, seq), and when the cloud last stored one."""

    club: str
    agent: str
    health: Health
    seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One reissue or adoption: the role, the ``by`` name and the reason given."""

    club: str
    agent: str
    action: str
    target: str
    role: str
    by: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthChangeRecord:
    """One change of an agent's state, with the health's own time and when the cloud stored it."""

    previous: str | None
    state: str
    boot: int | None
    seq: int | None
    at: datetime | None
    seen_at: datetime
