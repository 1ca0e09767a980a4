"""The outbox's rows as the rest of the agent sees them, and their decoding from SQLite."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from agent.domain.money import Kopecks
from agent.domain.receipt import Correction, CorrectionType, Receipt
from agent.outbox.codec import cash_from_json, receipt_from_json
from agent.outbox.orders import CashOrder, FiscalRecord
from agent.outbox.states import RowKind, RowState

__all__ = [
    "OutboxRow",
    "OutboxStats",
    "Settlement",
    "Submission",
    "SubmissionStatus",
    "aware",
    "fiscal_columns",
    "row_from_sql",
]


class SubmissionStatus(Enum):
    """The answer to a submit."""

    ACCEPTED = "accepted"  # a new row, committed and fsync'd
    RETAKEN = "retaken"  # a failed row sent again with the same content: pending again
    DUPLICATE = "duplicate"  # the same id with the same content: the stored row
    CONFLICT = "conflict"  # the same id with other content: id_conflict
    FULL = "full"  # max_pending rows wait already: refused, nothing stored


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """One request and everything that happened to it."""

    id: str
    kind: RowKind
    state: RowState
    receipt: Receipt | None
    cash: CashOrder | None
    fingerprint: str
    accepted_at: datetime
    updated_at: datetime
    attempts: int
    fn_serial: str | None  # the FN the intent was recorded against (printing)
    last_fd_before: int | None  # the register's last FD just before sending
    drawer_before: int | None  # cash rows: the drawer's balance just before sending
    fiscal: FiscalRecord | None
    error_code: str | None
    error_message: str | None
    delivered_at: datetime | None
    settlement: Settlement | None = None
    print_attempt: int = 0  # the current (or last) try's number; 0 before the first intent


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """How a person settled an unknown row: ``issued`` (with its FD) or ``not_issued``."""

    settled_as: str
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What became of a submit; ``row`` is the stored row (None when FULL)."""

    status: SubmissionStatus
    row: OutboxRow | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxStats:
    """Counts by state, the age of the oldest row waiting, final rows not yet delivered."""

    pending: int
    printing: int
    done: int
    rejected: int
    failed: int  # failed payments, without the withdrawn ones
    unknown: int
    oldest_pending_age_s: float | None  # over pending and printing rows; None when none
    undelivered: int
    withdrawn: int = 0  # failed rows withdrawn while pending: their caller was told


def fiscal_columns(fiscal: FiscalRecord) -> dict[str, object]:
    """A signed result as the outbox table's ``fiscal_*`` columns."""
    return {
        "fiscal_fn": fiscal.fn,
        "fiscal_fd": fiscal.fd,
        "fiscal_fp": fiscal.fp,
        "fiscal_shift": fiscal.shift,
        "fiscal_number": fiscal.number,
        "fiscal_issued_at": aware(fiscal.issued_at, "issued_at").isoformat(),
        "fiscal_total": fiscal.total,
        "fiscal_change": fiscal.change,
        "fiscal_mark": fiscal.mark,
        "fiscal_type": fiscal.type,
        "fiscal_doc_id": fiscal.doc_id,
    }


def aware(value: datetime, name: str) -> datetime:
    """``value`` itself; a naive datetime is a programming error (``ValueError``)."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{name} must be an aware datetime"
        raise ValueError(msg)
    return value


def _opt_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _receipt(raw: dict[str, Any], decoded: Receipt | CashOrder | None) -> Receipt:
    """The stored receipt with its ``paid_at`` and the correction decided with its intent.

    ``decoded``: the payload as the caller already holds it; the columns still decide its
    ``paid_at`` and correction (the caller may hold the receipt from before its intent).
    """
    receipt = decoded if isinstance(decoded, Receipt) else receipt_from_json(raw["payload"])
    paid_at = _opt_time(raw["paid_at"])
    correction = None
    if raw["correction_on"] is not None:
        settled_on = date.fromisoformat(raw["correction_on"])
        correction = Correction(type=CorrectionType.SELF, settled_on=settled_on)
    if paid_at == receipt.paid_at and correction == receipt.correction:
        return receipt
    return replace(receipt, paid_at=paid_at, correction=correction)


def _cash(payload: str, decoded: Receipt | CashOrder | None) -> CashOrder:
    return decoded if isinstance(decoded, CashOrder) else cash_from_json(payload)


def row_from_sql(raw: dict[str, Any], *, decoded: Receipt | CashOrder | None = None) -> OutboxRow:
    """One row of the outbox table, as a dict of its columns, back as an :class:`OutboxRow`.

    ``decoded``: the payload as the caller already holds it (a row it just stored), so it
    is not decoded again.
    """
    kind = RowKind(raw["kind"])
    fiscal = None
    if raw["fiscal_fd"] is not None:
        fiscal = FiscalRecord(
            fn=raw["fiscal_fn"],
            fd=raw["fiscal_fd"],
            fp=raw["fiscal_fp"],
            shift=raw["fiscal_shift"],
            number=raw["fiscal_number"],
            issued_at=datetime.fromisoformat(raw["fiscal_issued_at"]),
            total=Kopecks(raw["fiscal_total"]),
            change=Kopecks(raw["fiscal_change"]),
            mark=raw["fiscal_mark"],
            type="correction" if raw["fiscal_type"] == "correction" else "receipt",
            doc_id=raw["fiscal_doc_id"],
        )
    settlement = None
    if raw["settled_as"] is not None:
        settlement = Settlement(
            settled_as=raw["settled_as"],
            by=raw["settled_by"] or "",
            at=datetime.fromisoformat(raw["settled_at"]),
            reason=raw["settled_reason"] or "",
        )
    return OutboxRow(
        id=raw["id"],
        kind=kind,
        state=RowState(raw["state"]),
        receipt=_receipt(raw, decoded) if kind is RowKind.RECEIPT else None,
        cash=_cash(raw["payload"], decoded) if kind is RowKind.CASH else None,
        fingerprint=raw["fingerprint"],
        accepted_at=datetime.fromisoformat(raw["accepted_at"]),
        updated_at=datetime.fromisoformat(raw["updated_at"]),
        attempts=raw["attempts"],
        fn_serial=raw["fn_serial"],
        last_fd_before=raw["last_fd_before"],
        drawer_before=raw["drawer_before"],
        fiscal=fiscal,
        error_code=raw["error_code"],
        error_message=raw["error_message"],
        delivered_at=_opt_time(raw["delivered_at"]),
        settlement=settlement,
        print_attempt=raw["print_attempt"],
    )
