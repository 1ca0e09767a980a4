"""One agent's shift read for the reconciliation: only that shift's rows, no JSON parsed.

The reconciliation (cloud.reconcile) needs, of one agent's shift:

- the requests placed in its window (``placed_at``: paid_at, else received_at), and those
  whose document was printed in it although they were placed elsewhere (a done result of the
  shift, or a tape document carrying the request id as its mark);
- the results of those requests, whatever their shift, and every result of the shift (a
  result for an id the cloud never sent is a register-only row);
- the shift's documents, and the club's app transactions in the window.

Each is one indexed read (schema version 2: requests by (club, agent, placed_at), results and
documents by (club, agent, shift), transactions by (club, at)); the few requests and results
outside those ranges are then read by id. Rows become the reconciliation's own records
(cloud.reconcile_model) straight from the typed columns, in the order the rows arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud.reconcile_model import (
    Adoption,
    AppTransaction,
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    Payments,
    RegisterDocument,
    RequestOutcome,
)
from cloud.store.schema import crm_requests, documents, results, transactions

__all__ = ["ShiftInputs", "read_shift_inputs"]

_IDS_PER_QUERY: Final = 1_000
_KINDS: Final = {kind.value: kind for kind in Kind}
_DONE: Final = "done"

_REQUEST_COLUMNS: Final = (
    crm_requests.c.pk,
    crm_requests.c.id,
    crm_requests.c.kind,
    crm_requests.c.cash,
    crm_requests.c.card,
    crm_requests.c.prepaid,
    crm_requests.c.total,
    crm_requests.c.received_at,
    crm_requests.c.paid_at,
)
_RESULT_COLUMNS: Final = (
    results.c.pk,
    results.c.id,
    results.c.status,
    results.c.fn,
    results.c.fd,
    results.c.fp,
    results.c.shift,
    results.c.total,
    results.c.issued_at,
    results.c.doc_id,
    results.c.type,
    results.c.mark,
    results.c.error_code,
)


@dataclass(frozen=True, slots=True)
class ShiftInputs:
    """What :func:`cloud.reconcile.reconcile` takes for one agent's shift."""

    requests: list[CrmRequest]
    results: list[RequestOutcome]
    documents: list[RegisterDocument]
    transactions: list[AppTransaction]


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        yield ordered[start : start + _IDS_PER_QUERY]


async def _all(conn: AsyncConnection, query: Select[Any]) -> list[Any]:
    return list((await conn.execute(query)).all())


async def _by_ids(
    conn: AsyncConnection,
    table: Table,
    columns: tuple[Any, ...],
    scope: ColumnElement[bool],
    ids: set[str],
) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += await _all(conn, select(*columns).where(scope, table.c.id.in_(chunk)))
    rows.sort(key=lambda row: row.pk)
    return rows


def _requests(club: str, agent: str, rows: Iterable[Any]) -> list[CrmRequest]:
    kinds = _KINDS
    return [
        CrmRequest(
            club=club,
            agent=agent,
            id=row.id,
            kind=kinds[row.kind],
            payments=Payments(cash=row.cash, card=row.card, prepaid=row.prepaid),
            total=row.total,
            received_at=row.received_at,
            paid_at=row.paid_at,
        )
        for row in rows
    ]


def _outcome(row: Any) -> RequestOutcome:  # noqa: ANN401 - a result row
    fiscal = None
    if row.fn is not None:
        fiscal = Fiscal(
            fn=row.fn,
            fd=row.fd,
            fp=row.fp,
            total=Kopecks(row.total or 0),
            issued_at=row.issued_at,
            doc_id=row.doc_id or f"{row.fn}:{row.fd}",
            shift=row.shift,
            type=row.type or "receipt",
            mark=row.mark,
        )
    return RequestOutcome(id=row.id, status=row.status, fiscal=fiscal, error_code=row.error_code)


def _document(row: Any) -> RegisterDocument:  # noqa: ANN401 - a document row
    adopted = None
    if row.adopted_at is not None:
        adopted = Adoption(
            by=row.adopted_by, reason=row.adopted_reason, at=row.adopted_at, role=row.adopted_role
        )
    payments = None
    if row.cash is not None:
        payments = Payments(cash=row.cash, card=row.card, prepaid=row.prepaid)
    return RegisterDocument(
        fn=row.fn,
        fd=row.fd,
        type=row.type,
        shift=row.shift,
        issued_at=row.issued_at,
        kind=_KINDS[row.kind] if row.kind is not None else None,
        total=row.total,
        mark=row.mark,
        adopted=adopted,
        payments=payments,
    )


async def read_shift_inputs(
    conn: AsyncConnection,
    club: str,
    agent: str,
    *,
    shift: int,
    start: datetime,
    end: datetime | None,
) -> ShiftInputs:
    """The requests, results, documents and app transactions of shift ``shift``.

    ``start`` and ``end`` are the window the shift claims payments in (end None: open).
    """
    req, res, doc = crm_requests.c, results.c, documents.c
    in_window = req.placed_at >= start
    if end is not None:
        in_window = in_window & (req.placed_at < end)
    request_rows = await _all(
        conn,
        select(*_REQUEST_COLUMNS)
        .where(req.club == club, req.agent == agent, in_window)
        .order_by(req.pk),
    )
    result_rows = await _all(
        conn,
        select(*_RESULT_COLUMNS)
        .where(res.club == club, res.agent == agent, res.shift == shift)
        .order_by(res.pk),
    )
    document_rows = await _all(
        conn,
        select(documents)
        .where(doc.club == club, doc.agent == agent, doc.shift == shift)
        .order_by(doc.pk),
    )
    # Requests placed elsewhere whose document is in this shift.
    have_requests = {row.id for row in request_rows}
    printed_here = {row.id for row in result_rows if row.status == _DONE}
    printed_here.update(row.mark for row in document_rows if row.mark is not None)
    request_rows += await _by_ids(
        conn,
        crm_requests,
        _REQUEST_COLUMNS,
        (req.club == club) & (req.agent == agent),
        printed_here - have_requests,
    )
    # Results of this shift's requests printed in another shift, or not printed.
    have_results = {row.id for row in result_rows}
    result_rows += await _by_ids(
        conn,
        results,
        _RESULT_COLUMNS,
        (res.club == club) & (res.agent == agent),
        {row.id for row in request_rows} - have_results,
    )
    tx = transactions.c
    tx_window = tx.at >= start
    if end is not None:
        tx_window = tx_window & (tx.at < end)
    tx_rows = await _all(
        conn,
        select(tx.id, tx.kind, tx.amount, tx.at).where(tx.club == club, tx_window).order_by(tx.pk),
    )
    return ShiftInputs(
        requests=_requests(club, agent, request_rows),
        results=[_outcome(row) for row in result_rows],
        documents=[_document(row) for row in document_rows],
        # A posted transaction is an app payment, paid online: card (shift_reconciliation).
        transactions=[
            AppTransaction(
                id=row.id, kind=_KINDS[row.kind], payments=Payments(card=row.amount), at=row.at
            )
            for row in tx_rows
        ],
    )
