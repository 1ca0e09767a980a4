"""The agent page's and the shift page's contents: pure functions of what the store gave.

:func:`history_lines` (health history), :func:`shift_lines` (the agent's shifts with their
reconciliation at a glance), :func:`shift_view` (one shift's rows with the actions each
allows: issue the receipt of a ``crm_only`` row, add a ``register_only`` document to the CRM,
open a document at the OFD) and :func:`audit_lines` (who did what and why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cloud.fiscal_links import format_kopecks, ofd_link
from cloud.reconcile_model import PaymentTotals, Reconciliation, Row, RowStatus, ShiftWindow
from cloud.store import AuditRecord, HealthChangeRecord
from cloud.web.board import Cell, Level, ShiftSummary, Tr, discrepancy_text

__all__ = [
    "AuditLine",
    "HistoryLine",
    "ShiftLine",
    "ShiftRowView",
    "ShiftView",
    "TotalLine",
    "audit_lines",
    "history_lines",
    "shift_lines",
    "shift_view",
]

_TIME = "%d.%m.%Y %H:%M:%S"


def _time(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime(_TIME) if at is not None else "—"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryLine:
    """One change of state."""

    when: str
    change: str
    level: Level
    start: str


def history_lines(changes: Iterable[HealthChangeRecord], tr: Tr) -> list[HistoryLine]:
    """The changes as the page lists them (in the order given: newest first)."""
    lines = []
    for change in changes:
        before = tr(f"word.{change.previous}") if change.previous else "—"
        after = tr(f"word.{change.state}")
        # History, not a call to act: never red.
        level = Level.OK if change.state == "online" else Level.LOOK
        start = "/".join(str(part) for part in (change.boot, change.seq) if part is not None)
        lines.append(
            HistoryLine(
                when=_time(change.at or change.seen_at),
                change=f"{before} → {after}",
                level=level,
                start=start or "—",
            )
        )
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftLine:
    """One shift in the agent's list."""

    number: int
    opened: str
    closed: str
    status: Cell


def shift_lines(
    windows: Sequence[ShiftWindow], summaries: Mapping[int, ShiftSummary], tr: Tr
) -> list[ShiftLine]:
    """The agent's shifts, newest first, each with its reconciliation's summary if known."""
    lines = []
    for window in reversed(windows):
        summary = summaries.get(window.number)
        if summary is None:
            status = Cell("…")
        elif summary.matched:
            status = Cell(tr("status.matched"))
        else:
            status = Cell(discrepancy_text(summary, tr), Level.LOOK)
        lines.append(
            ShiftLine(
                number=window.number,
                opened=_time(window.opened_at),
                closed=_time(window.closed_at) if window.closed_at else tr("shift.still_open"),
                status=status,
            )
        )
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftRowView:
    """One reconciliation row with what the page lets support do with it."""

    id: str
    status: str
    label: str
    level: Level
    crm: str
    register: str
    note: str
    reissue: bool
    adopt: bool
    ofd_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TotalLine:
    """A total of the shift, by payment kind."""

    label: str
    cash: str
    card: str
    prepaid: str
    total: str
    level: Level


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftView:
    """A shift's reconciliation as the page shows it."""

    number: int
    opened: str
    closed: str | None  # None: still open
    rows: list[ShiftRowView]
    rows_total: int
    totals: list[TotalLine]
    counters: bool


def _row(row: Row, template: str | None, tr: Tr) -> ShiftRowView:
    crm = ""
    if row.crm is not None:
        paid = row.crm.paid_at or row.crm.received_at
        crm = f"{format_kopecks(row.crm.total)} · {paid.astimezone(UTC).strftime('%H:%M:%S')}"
    register = ""
    ofd_url = None
    if row.fiscal is not None:
        fiscal = row.fiscal
        register = (
            f"FD {fiscal.fd} · {format_kopecks(fiscal.total)} · "
            f"{fiscal.issued_at.astimezone(UTC).strftime('%H:%M')}"
        )
        ofd_url = ofd_link(template, fiscal, row.kind)
    notes = []
    if row.adopted is not None:
        notes.append(tr("row.adopted", by=row.adopted.by, reason=row.adopted.reason))
    if row.outcome is not None:
        notes.append(tr("row.outcome", status=row.outcome.status))
    if row.other_shift:
        notes.append(tr("row.other_shift"))
    if row.late and row.fiscal is not None:
        notes.append(tr("row.late", shift=row.fiscal.shift))
    open_problem = row.status is RowStatus.CRM_ONLY or (
        row.status is RowStatus.REGISTER_ONLY and row.adopted is None
    )
    return ShiftRowView(
        id=row.id,
        status=row.status.value,
        label=tr(f"status.{row.status.value}"),
        level=Level.LOOK if open_problem else Level.OK,
        crm=crm,
        register=register,
        note="; ".join(notes),
        reissue=row.status is RowStatus.CRM_ONLY,
        adopt=row.status is RowStatus.REGISTER_ONLY and row.adopted is None,
        ofd_url=ofd_url,
    )


def _total(label: str, totals: PaymentTotals, level: Level = Level.OK) -> TotalLine:
    return TotalLine(
        label=label,
        cash=format_kopecks(totals.cash),
        card=format_kopecks(totals.card),
        prepaid=format_kopecks(totals.prepaid),
        total=format_kopecks(totals.total),
        level=level,
    )


def shift_view(rec: Reconciliation, tr: Tr, *, problems_only: bool) -> ShiftView:
    """The shift's rows (all, or only those that differ) and its totals."""
    rows = [_row(row, rec.ofd_url_template, tr) for row in rec.rows]
    if problems_only:
        rows = [row for row in rows if row.level is not Level.OK or row.note]
    totals = [_total(tr("shift.crm_register_total"), rec.totals.crm_register_total)]
    if rec.totals.z_register_total is not None:
        totals.append(_total(tr("shift.z_register_total"), rec.totals.z_register_total))
    if rec.totals.difference is not None:
        differs = rec.totals.difference.total != 0
        level = Level.LOOK if differs else Level.OK
        totals.append(_total(tr("shift.difference"), rec.totals.difference, level))
    totals.append(_total(tr("shift.crm_grand_total"), rec.totals.crm_grand_total))
    return ShiftView(
        number=rec.shift.number,
        opened=_time(rec.shift.opened_at),
        closed=_time(rec.shift.closed_at) if rec.shift.closed_at else None,
        rows=rows,
        rows_total=len(rec.rows),
        totals=totals,
        counters=rec.totals.z_register_total is not None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditLine:
    """One reissue or adoption: when, who, in what role, what and why."""

    when: str
    who: str
    what: str
    reason: str


def audit_lines(records: Iterable[AuditRecord], agent: str, tr: Tr) -> list[AuditLine]:
    """The agent's actions, newest first."""
    mine = [rec for rec in records if rec.agent == agent]
    return [
        AuditLine(
            when=_time(rec.at),
            who=f"{rec.by} ({rec.role})",
            what=tr(f"audit.{rec.action}", target=rec.target),
            reason=rec.reason,
        )
        for rec in sorted(mine, key=lambda rec: rec.at, reverse=True)
    ]
