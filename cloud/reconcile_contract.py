"""The reconciliation at its edges: built from the agent's contract models, written as JSON.

Money crosses here exactly: contract Decimals become integer kopecks with
:func:`agent.contract.money_to_kopecks`, and kopecks become ``"150.00"`` strings only in
:func:`to_contract`. A request's total is the sum of its lines, each price x quantity
rounded half up to the kopeck, as the register computes it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.contract import (
    FiscalDocument,
    FiscalResult,
    ReceiptRequest,
    ReceiptResult,
    ShiftReport,
    money_to_kopecks,
)
from agent.contract import PaymentCounters as ContractPaymentCounters
from agent.contract import PaymentsRequest as ContractPayments
from cloud.fiscal_links import format_kopecks, ofd_link, qr_string
from cloud.reconcile_model import (
    Adoption,
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    PaymentCounters,
    Payments,
    PaymentTotals,
    Reconciliation,
    RegisterDocument,
    RequestOutcome,
    Row,
    ShiftCounters,
    ShiftWindow,
)

__all__ = [
    "counters_from_contract",
    "document_from_contract",
    "fiscal_from_contract",
    "outcome_from_contract",
    "payments_from_contract",
    "request_from_contract",
    "request_total",
    "row_to_contract",
    "to_contract",
    "totals_to_contract",
    "window_from_report",
]

_QTY_SCALE = 1_000_000


def _kopecks(value: Decimal | None) -> Kopecks:
    return Kopecks(0 if value is None else money_to_kopecks(value))


def payments_from_contract(payments: ContractPayments) -> Payments:
    """``{cash?, card?, prepaid?}`` as kopecks; an absent kind is 0."""
    return Payments(
        cash=_kopecks(payments.cash),
        card=_kopecks(payments.card),
        prepaid=_kopecks(payments.prepaid),
    )


def request_total(request: ReceiptRequest) -> Kopecks:
    """The receipt total: each line's price x quantity rounded half up, summed."""
    total = 0
    for item in request.items:
        micros = int(item.qty * _QTY_SCALE)
        total += (money_to_kopecks(item.price) * micros + _QTY_SCALE // 2) // _QTY_SCALE
    return Kopecks(total)


def request_from_contract(
    request: ReceiptRequest,
    *,
    club: str,
    agent: str,
    received_at: datetime,
    paid_at: datetime | None = None,
) -> CrmRequest:
    """A ``cmd/receipt`` payload the cloud received at ``received_at``.

    ``paid_at`` is the CRM's payment time; when not given it is read from the request where
    the contract model carries it (v1.1).
    """
    if paid_at is None:
        paid_at = getattr(request, "paid_at", None)
    return CrmRequest(
        club=club,
        agent=agent,
        id=request.id,
        kind=Kind(request.kind),
        payments=payments_from_contract(request.payments),
        total=request_total(request),
        received_at=received_at,
        paid_at=paid_at,
    )


def fiscal_from_contract(fiscal: FiscalResult) -> Fiscal:
    """The ``fiscal`` object of a ReceiptResult (its sign comes from the request)."""
    return Fiscal(
        fn=fiscal.fn,
        fd=fiscal.fd,
        fp=fiscal.fp,
        total=_kopecks(fiscal.total),
        issued_at=fiscal.issued_at,
        doc_id=fiscal.doc_id or f"{fiscal.fn}:{fiscal.fd}",
        shift=fiscal.shift,
        type=fiscal.type,
        mark=fiscal.mark,
    )


def outcome_from_contract(result: ReceiptResult) -> RequestOutcome:
    """An ``evt/receipt``."""
    return RequestOutcome(
        id=result.id,
        status=result.status,
        fiscal=fiscal_from_contract(result.fiscal) if result.fiscal is not None else None,
        error_code=result.error.code if result.error is not None else None,
    )


def document_from_contract(
    document: FiscalDocument, *, adopted: Adoption | None = None
) -> RegisterDocument:
    """An ``evt/document``, with its adoption when a person took it into the CRM."""
    return RegisterDocument(
        fn=document.fn,
        fd=document.fd,
        type=document.type,
        shift=document.shift,
        issued_at=document.issued_at,
        kind=Kind(document.kind) if document.kind is not None else None,
        total=_kopecks(document.total) if document.total is not None else None,
        mark=document.mark,
        adopted=adopted,
        payments=(
            Payments(
                cash=_kopecks(document.payments.cash),
                card=_kopecks(document.payments.card),
                prepaid=_kopecks(document.payments.prepaid),
            )
            if document.payments is not None
            else None
        ),
    )


def _payment_counters(counters: ContractPaymentCounters) -> PaymentCounters:
    return PaymentCounters(
        cash=_kopecks(counters.cash),
        card=_kopecks(counters.card),
        prepaid=_kopecks(counters.prepaid),
        count=counters.count,
    )


def counters_from_contract(report: ShiftReport) -> ShiftCounters:
    """A report's counters: sales and refunds (cash net of change), cash in and out."""
    counters = report.counters
    return ShiftCounters(
        sales=_payment_counters(counters.sales),
        refunds=_payment_counters(counters.refunds),
        cash_in=_kopecks(counters.cash_in),
        cash_out=_kopecks(counters.cash_out),
    )


def window_from_report(
    report: ShiftReport, *, club: str, agent: str, claims_from: datetime | None = None
) -> ShiftWindow:
    """The shift a report describes, with its counters (the Z's, or an X's while open)."""
    return ShiftWindow(
        club=club,
        agent=agent,
        number=report.shift,
        opened_at=report.opened_at,
        closed_at=report.closed_at if report.kind == "z" else None,
        fn=report.fn,
        counters=counters_from_contract(report),
        claims_from=claims_from,
    )


def totals_to_contract(totals: PaymentTotals) -> dict[str, str]:
    """``{cash, card, prepaid, total}`` as money strings."""
    return {
        "cash": format_kopecks(totals.cash),
        "card": format_kopecks(totals.card),
        "prepaid": format_kopecks(totals.prepaid),
        "total": format_kopecks(totals.total),
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def row_to_contract(row: Row, ofd_url_template: str | None = None) -> dict[str, Any]:
    """One row: ``{id, status, crm, fiscal}`` plus what the page shows beside them."""
    crm: dict[str, Any] | None = None
    if row.crm is not None:
        req = row.crm
        crm = {
            "id": req.id,
            "kind": req.kind.value,
            "total": format_kopecks(req.total),
            "payments": {
                "cash": format_kopecks(req.payments.cash),
                "card": format_kopecks(req.payments.card),
                "prepaid": format_kopecks(req.payments.prepaid),
            },
            "received_at": _time(req.received_at),
            "paid_at": _time(req.paid_at),
        }
        if row.outcome is not None:
            crm["result"] = {"status": row.outcome.status, "error": row.outcome.error_code}
    fiscal: dict[str, Any] | None = None
    if row.fiscal is not None:
        doc = row.fiscal
        fiscal = {
            "doc_id": doc.doc_id,
            "fn": doc.fn,
            "fd": doc.fd,
            "fp": doc.fp,
            "type": doc.type,
            "shift": doc.shift,
            "total": format_kopecks(doc.total),
            "issued_at": _time(doc.issued_at),
            "qr": qr_string(doc, row.kind),
            "ofd_url": ofd_link(ofd_url_template, doc, row.kind),
        }
    out: dict[str, Any] = {"id": row.id, "status": row.status.value, "crm": crm, "fiscal": fiscal}
    if row.other_shift:
        out["other_shift"] = True
    if row.late:
        out["late"] = True  # a correction receipt: printed in fiscal.shift, after its payment
        out["printed_in_shift"] = row.fiscal.shift if row.fiscal is not None else None
    if row.adopted is not None:
        out["adopted"] = {
            "by": row.adopted.by,
            "reason": row.adopted.reason,
            "at": _time(row.adopted.at),
            "role": row.adopted.role,
        }
    return out


def to_contract(result: Reconciliation) -> dict[str, Any]:
    """The body of ``GET /api/v1/clubs/{club}/reconciliation``: ``{rows, totals}`` and more.

    ``z_register_total`` and ``difference`` are null while the shift has no report. Cash in
    and out and the adopted documents are shown apart from the four totals.
    """
    totals = result.totals
    shift = result.shift
    return {
        "club": shift.club,
        "agent": shift.agent,
        "shift": {
            "number": shift.number,
            "fn": shift.fn,
            "opened_at": _time(shift.opened_at),
            "closed_at": _time(shift.closed_at),
        },
        "rows": [row_to_contract(row, result.ofd_url_template) for row in result.rows],
        "totals": {
            "crm_register_total": totals_to_contract(totals.crm_register_total),
            "crm_grand_total": totals_to_contract(totals.crm_grand_total),
            "z_register_total": (
                totals_to_contract(totals.z_register_total)
                if totals.z_register_total is not None
                else None
            ),
            "difference": (
                totals_to_contract(totals.difference) if totals.difference is not None else None
            ),
        },
        "cash_in": format_kopecks(totals.cash_in) if totals.cash_in is not None else None,
        "cash_out": format_kopecks(totals.cash_out) if totals.cash_out is not None else None,
        "adopted_total": format_kopecks(totals.adopted_total),
        # Late payments (docs/corrections.md), shown apart like the adopted documents.
        "fixed_later_total": totals_to_contract(totals.fixed_later_total),
        "corrections_total": totals_to_contract(totals.corrections_total),
    }
