"""Exactly once across crashes: decide what happened to a receipt that was being printed.

Before a receipt is sent, the outbox stores ``printing`` with the FN serial and the register's
last FD number (the intent). After a crash, a lost answer or any error while printing, the
service asks the register and this pure function decides (shared/DESIGN.md, "Exactly once"):

- a new receipt document after the intent's FD whose kind and total match → it was issued:
  record it, never print again;
- a receipt left open → it was not issued: cancel it and print again;
- nothing new that matches → it was not issued: print again;
- anything that cannot be explained (another FN, the FD counter went back, documents missing
  from the archive, two candidates) → ``unknown``: a person decides, nothing is printed again.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind
from agent.drivers.interface import DocumentType, FiscalDocument

__all__ = ["Facts", "Intent", "Issued", "Reprint", "Resolution", "Unknown", "decide"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """What the outbox recorded before sending a receipt."""

    fn_serial: str
    last_fd: int
    kind: ReceiptKind
    total: Kopecks


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the register says now: the FN, its last FD, the documents since the intent."""

    fn_serial: str
    last_fd: int
    is_receipt_open: bool
    documents: tuple[FiscalDocument, ...]  # FDs intent.last_fd + 1 .. last_fd, in order


@dataclass(frozen=True, slots=True)
class Issued:
    """The receipt was issued as this document."""

    document: FiscalDocument


@dataclass(frozen=True, slots=True)
class Reprint:
    """The receipt was not issued; cancel the open receipt first when there is one."""

    cancel_open_receipt: bool


@dataclass(frozen=True, slots=True)
class Unknown:
    """The register's state cannot be explained; a person must decide."""

    reason: str


Resolution = Issued | Reprint | Unknown


def decide(intent: Intent, facts: Facts) -> Resolution:
    """Decide from the intent and the register's facts; see the module docstring."""
    if facts.fn_serial != intent.fn_serial:
        return Unknown(
            f"the FN changed from {intent.fn_serial} to {facts.fn_serial} while printing"
        )
    if facts.last_fd < intent.last_fd:
        return Unknown(f"the FN's last FD went back from {intent.last_fd} to {facts.last_fd}")
    expected = list(range(intent.last_fd + 1, facts.last_fd + 1))
    if [doc.fd for doc in facts.documents] != expected:
        return Unknown("documents after the recorded FD could not all be read from the FN")
    matches = [
        doc
        for doc in facts.documents
        if doc.type == DocumentType.RECEIPT
        and doc.kind is intent.kind
        and doc.total == intent.total
    ]
    if len(matches) > 1:
        fds = ", ".join(str(doc.fd) for doc in matches)
        return Unknown(f"several receipts match the kind and total: FD {fds}")
    if matches:
        return Issued(matches[0])
    return Reprint(cancel_open_receipt=facts.is_receipt_open)
