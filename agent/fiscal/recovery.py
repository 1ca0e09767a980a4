"""Exactly once across crashes: decide, by proof, what happened to a receipt being printed.

Before a receipt is sent, the outbox stores ``printing`` with the FN serial and the register's
last FD number (the intent), and the receipt carries the row's id into the FN as its *mark*
(docs/exactly-once.md). After a crash, a lost answer or any error while printing, the service
reads every document after the intent's FD back from the FN and this pure function decides:

- one document carries the row's mark and its content (kind, total, lines, payments) is the
  row's receipt → it was issued: record it, never print again;
- one carries the mark but its content differs, or two carry it → ``unknown``;
- every document after the intent was read, none carries the mark → it was not issued: print
  again (cancelling a receipt left open first);
- anything else (another FN, the FD counter went back, a document that could not be read, a
  receipt read without its mark) → ``unknown``: a person decides, nothing is printed again.

Never by the total: two payments of the same amount are the normal case in a club.

A device that keeps each receipt under the request's own key (SmartOne's ``documentExtID``)
has no FN archive to scan: :func:`decide_by_request` judges its answer for the request
instead, by the same content check.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain.receipt import Receipt
from agent.drivers.interface import RECEIPT_TYPES, DocumentType, FiscalDocument

__all__ = [
    "Facts",
    "Intent",
    "Issued",
    "Reprint",
    "Resolution",
    "Unknown",
    "decide",
    "decide_by_request",
    "mismatch",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """What the outbox recorded before sending a receipt, and the receipt itself."""

    fn_serial: str
    last_fd: int
    mark: str
    receipt: Receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the register says now: the FN, its last FD, the documents since the intent.

    ``documents`` are read whole (``read_document``), in FD order from ``intent.last_fd + 1``;
    they stop early when an FD could not be read, and then ``unreadable`` names it.
    """

    fn_serial: str
    last_fd: int
    is_receipt_open: bool
    documents: tuple[FiscalDocument, ...]
    unreadable: int | None = None


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
    broken = _unexplained_tape(intent, facts)
    if broken is not None:
        return broken
    marked = [doc for doc in facts.documents if doc.mark == intent.mark]
    if len(marked) > 1:
        fd_list = ", ".join(str(doc.fd) for doc in marked)
        return Unknown(f"FD {fd_list} all carry this request's mark")
    if marked:
        document = marked[0]
        difference = mismatch(intent.receipt, document)
        if difference is not None:
            return Unknown(f"FD {document.fd} carries this request's mark but {difference}")
        return Issued(document)
    unread = _first_unread(intent, facts)
    if unread is not None:
        return Unknown(f"FD {unread} after the recorded FD could not be read back whole")
    return Reprint(cancel_open_receipt=facts.is_receipt_open)


def decide_by_request(intent: Intent, document: FiscalDocument | None) -> Resolution:
    """Decide from what a device that keys receipts by request says of this one.

    None (the device has no document under the request's key) → not issued: print again,
    under the same key. A document whose mark is not the request's, or whose content is not
    the row's receipt → ``unknown``. Otherwise → issued.

    The content is checked as far as the device reports it: its kind and total when the
    driver knows them, and its payments, with cash either net of change or as tendered (the
    device's documents do not say which it reports). The key itself is the proof of identity;
    this check catches a key another program reused.
    """
    if document is None:
        return Reprint(cancel_open_receipt=False)
    if document.mark != intent.mark:
        return Unknown(f"the device answered for {document.mark!r}, not {intent.mark!r}")
    difference = _reported_mismatch(intent.receipt, document)
    if difference is not None:
        name = document.doc_id or f"FD {document.fd}"
        return Unknown(f"{name} is kept under this request's key but {difference}")
    return Issued(document)


def _reported_mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    """How what a device reports for a request differs from its receipt (None: it does not)."""
    if not _is_receipt(document):
        return f"it is a document of type {document.type}, not a receipt"
    if document.kind is not None and document.kind is not receipt.kind:
        return _kind_mismatch(receipt, document)
    if document.total is not None and document.total != receipt.total:
        return f"its total is {document.total} kopecks, not {receipt.total}"
    return _lines_mismatch(receipt, document) or _reported_payments_mismatch(receipt, document)


def _reported_payments_mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    """Payments as a device reports them: cash net of change or as tendered."""
    paid = document.payments
    if paid is None:
        return None
    expected = receipt.payments
    is_cash_right = paid.cash in {receipt.cash_kept, expected.cash}
    if not is_cash_right or (paid.card, paid.prepaid) != (expected.card, expected.prepaid):
        return f"its payments are {paid}, not cash/card/prepaid {expected}"
    return None


def _unexplained_tape(intent: Intent, facts: Facts) -> Unknown | None:
    """Another FN, an FD counter that went back, documents out of sequence."""
    if facts.fn_serial != intent.fn_serial:
        return Unknown(
            f"the FN changed from {intent.fn_serial} to {facts.fn_serial} while printing"
        )
    if facts.last_fd < intent.last_fd:
        return Unknown(f"the FN's last FD went back from {intent.last_fd} to {facts.last_fd}")
    fds = [doc.fd for doc in facts.documents]
    if fds != list(range(intent.last_fd + 1, intent.last_fd + 1 + len(fds))):
        return Unknown("the documents read back after the recorded FD are not in sequence")
    return None


def _first_unread(intent: Intent, facts: Facts) -> int | None:
    """The first FD after the intent that was not read whole, if any."""
    if facts.unreadable is not None:
        return facts.unreadable
    for doc in facts.documents:
        if _is_receipt(doc) and not doc.is_whole:
            return doc.fd  # a receipt read without its requisites cannot show a mark
    if len(facts.documents) != facts.last_fd - intent.last_fd:
        return intent.last_fd + len(facts.documents) + 1
    return None


def mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    """How the document differs from the receipt (None when it is that receipt).

    Compares what the FN signs: receipt or correction receipt (with the correction's type
    and settlement date), the calculation sign, the total, each line's quantity, price,
    amount and VAT rate, and the payments (cash net of change). Names are left out: the FN
    stores them in its own encoding and may cut them.
    """
    if not _is_receipt(document):
        return f"it is a document of type {document.type}, not a receipt"
    different = _correction_mismatch(receipt, document) or _kind_mismatch(receipt, document)
    if different is not None:
        return different
    if document.total != receipt.total:
        return f"its total is {document.total} kopecks, not {receipt.total}"
    lines = _lines_mismatch(receipt, document)
    if lines is not None:
        return lines
    paid = document.payments
    if paid is not None:
        expected = (receipt.cash_kept, receipt.payments.card, receipt.payments.prepaid)
        if (paid.cash, paid.card, paid.prepaid) != expected:
            return f"its payments are {paid}, not cash/card/prepaid {expected}"
    return None


def _lines_mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    if document.items is None:
        return None
    if len(document.items) != len(receipt.items):
        return f"it has {len(document.items)} lines, not {len(receipt.items)}"
    for number, (line, item) in enumerate(zip(document.items, receipt.items, strict=True)):
        ours = (item.qty, item.price, item.amount, item.vat)
        theirs = (line.qty, line.price, line.amount, line.vat)
        if ours != theirs:
            return f"line {number} is {theirs}, not {ours}"
    return None


def _kind_mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    if document.kind is receipt.kind:
        return None
    kind = document.kind.name.lower() if document.kind else "unknown"
    return f"its kind is {kind}, not {receipt.kind.name.lower()}"


def _correction_mismatch(receipt: Receipt, document: FiscalDocument) -> str | None:
    """A correction receipt where a receipt was sent, or the other way, or another basis."""
    is_correction = document.type == DocumentType.CORRECTION
    if receipt.correction is None:
        return "it is a correction receipt, not a receipt" if is_correction else None
    if not is_correction:
        return "it is a receipt, not a correction receipt"
    if document.is_whole and document.correction != receipt.correction:
        return f"its correction is {document.correction}, not {receipt.correction}"
    return None


def _is_receipt(document: FiscalDocument) -> bool:
    return document.type in RECEIPT_TYPES
