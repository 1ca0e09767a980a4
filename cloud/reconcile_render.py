"""The reconciliation as a terminal table, for ``fiscal-cloud reconcile``.

``fiscal-cloud reconcile --club C [--agent A] [--shift N]`` prints it (the CLI comes later).

Pure: a :class:`~cloud.reconcile_model.Reconciliation` in, a string out (no colour, no
terminal queries), so the CLI prints it and the tests compare it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from cloud.fiscal_links import format_kopecks
from cloud.reconcile_model import PaymentTotals, Reconciliation, Row, RowStatus

__all__ = ["render_reconciliation", "render_reconciliations"]

_ROW_HEADERS = ("status", "id", "kind", "crm", "register", "document", "time", "note")
_RIGHT = frozenset({3, 4})  # money columns are right-aligned
_TOTAL_HEADERS = ("", "cash", "card", "prepaid", "total")
_NONE = "-"


def _table(headers: Sequence[str], lines: Iterable[Sequence[str]], right: frozenset[int]) -> str:
    body = [list(headers), *(list(line) for line in lines)]
    widths = [max(len(line[col]) for line in body) for col in range(len(headers))]
    out = []
    for line in body:
        cells = [
            cell.rjust(widths[col]) if col in right else cell.ljust(widths[col])
            for col, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M %z") if value is not None else _NONE


def _note(row: Row) -> str:
    notes = []
    if row.outcome is not None:
        error = f": {row.outcome.error_code}" if row.outcome.error_code else ""
        notes.append(f"{row.outcome.status}{error}")
    if row.other_shift:
        notes.append("other shift")
    if row.late and row.fiscal is not None:
        notes.append(f"late: correction printed in shift {row.fiscal.shift}")
    elif row.fiscal is not None and row.fiscal.type != "receipt":
        notes.append(row.fiscal.type)
    if row.adopted is not None:
        notes.append(f"adopted by {row.adopted.by}: {row.adopted.reason}")
    return "; ".join(notes)


def _row_cells(row: Row) -> tuple[str, ...]:
    kind = row.kind
    crm, fiscal = row.crm, row.fiscal
    moment = crm.at if crm is not None else fiscal.issued_at if fiscal is not None else None
    return (
        row.status.value,
        row.id,
        kind.value if kind is not None else _NONE,
        format_kopecks(crm.total) if crm is not None else _NONE,
        format_kopecks(fiscal.total) if fiscal is not None else _NONE,
        fiscal.doc_id if fiscal is not None else _NONE,
        moment.strftime("%m-%d %H:%M") if moment is not None else _NONE,
        _note(row),
    )


def _totals_cells(name: str, totals: PaymentTotals | None) -> tuple[str, ...]:
    if totals is None:
        return (name, _NONE, _NONE, _NONE, "no report yet")
    return (
        name,
        format_kopecks(totals.cash),
        format_kopecks(totals.card),
        format_kopecks(totals.prepaid),
        format_kopecks(totals.total),
    )


def render_reconciliation(
    rec: Reconciliation, *, problems_only: bool = False, max_rows: int | None = None
) -> str:
    """One agent's shift: a header, the rows, the four totals, cash in and out apart.

    ``problems_only`` leaves out matched rows that sit in this shift on both sides;
    ``max_rows`` cuts the table and says how many rows it left out.
    """
    shift = rec.shift
    fn = f" (FN {shift.fn})" if shift.fn else ""
    state = f"closed {_when(shift.closed_at)}" if shift.closed_at is not None else "open"
    counts = dict.fromkeys(RowStatus, 0)
    for row in rec.rows:
        counts[row.status] += 1
    lines = [
        f"club {shift.club}, agent {shift.agent}: shift {shift.number}{fn}",
        f"opened {_when(shift.opened_at)}, {state}",
        ", ".join(f"{counts[status]} {status.value}" for status in RowStatus),
        "",
    ]

    shown = [
        row
        for row in rec.rows
        if not (problems_only and row.status is RowStatus.MATCHED and not row.other_shift)
    ]
    left_out = 0
    if max_rows is not None and len(shown) > max_rows:
        left_out = len(shown) - max_rows
        shown = shown[:max_rows]
    if shown:
        lines.append(_table(_ROW_HEADERS, (_row_cells(row) for row in shown), _RIGHT))
    else:
        lines.append("no rows to show" if rec.rows else "no payments and no documents")
    if left_out:
        lines.append(f"... {left_out} more rows not shown")
    lines.append("")

    totals = rec.totals
    lines.append(
        _table(
            _TOTAL_HEADERS,
            [
                _totals_cells("crm_register_total", totals.crm_register_total),
                _totals_cells("z_register_total", totals.z_register_total),
                _totals_cells("difference", totals.difference),
                _totals_cells("crm_grand_total", totals.crm_grand_total),
            ],
            frozenset({1, 2, 3, 4}),
        )
    )
    if totals.cash_in is not None and totals.cash_out is not None:
        lines.append(
            f"cash in {format_kopecks(totals.cash_in)}, cash out "
            f"{format_kopecks(totals.cash_out)} (not sales)"
        )
    if totals.adopted_total:
        lines.append(
            f"adopted into the CRM: {format_kopecks(totals.adopted_total)} "
            "(register-only documents without a payment split, still in the difference)"
        )
    if totals.fixed_later_total.total:
        lines.append(
            f"fixed later: {format_kopecks(totals.fixed_later_total.total)} "
            "(this shift's payments printed as correction receipts in a later shift)"
        )
    if totals.corrections_total.total:
        lines.append(
            f"corrections: {format_kopecks(totals.corrections_total.total)} "
            "(correction receipts printed in this shift for earlier payments)"
        )
    if totals.difference is not None:
        verdict = "match" if totals.difference == PaymentTotals() else "DISCREPANCY"
        lines.append(verdict)
    return "\n".join(lines) + "\n"


def render_reconciliations(
    recs: Iterable[Reconciliation], *, problems_only: bool = False, max_rows: int | None = None
) -> str:
    """Several agents' shifts (``--club C`` without ``--agent``), one after another."""
    parts = [
        render_reconciliation(rec, problems_only=problems_only, max_rows=max_rows) for rec in recs
    ]
    return "\n".join(parts) if parts else "no shifts to reconcile\n"
