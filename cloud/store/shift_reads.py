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
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, Table, select, type_coerce
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
_ZERO: Final = Kopecks(0)


def _time(column: Any) -> Any:  # noqa: ANN401 - a column
    """A time column read without UtcDateTime's per-value step (see :class:`_Times`)."""
    return type_coerce(column, String).label(column.name)


_REQUEST_COLUMNS: Final = (
    crm_requests.c.id,
    crm_requests.c.kind,
    crm_requests.c.cash,
    crm_requests.c.card,
    crm_requests.c.prepaid,
    crm_requests.c.total,
    _time(crm_requests.c.received_at),
    _time(crm_requests.c.paid_at),
)
_RESULT_COLUMNS: Final = (
    results.c.id,
    results.c.status,
    results.c.fn,
    results.c.fd,
    results.c.fp,
    results.c.shift,
    results.c.total,
    _time(results.c.issued_at),
    results.c.doc_id,
    results.c.type,
    results.c.mark,
    results.c.error_code,
)


class _Times:
    """Stored times back as aware UTC datetimes, each distinct value parsed once.

    SQLite keeps a time as text (``2026-01-05 06:33:00.000000``, UTC) and PostgreSQL gives a
    datetime; the columns are read as they come (``_time``) and turned into aware datetimes
    here. A batch's rows share one ``received_at`` and an FN's times are whole minutes, so a
    shift of 100,000 rows has a few thousand distinct times: each is converted once.
    """

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[object, datetime] = {}
        """Every value converted so far: look here first, call only on a miss."""

    def __call__(self, value: object) -> datetime:
        known = self.seen.get(value)
        if known is not None:
            return known
        if isinstance(value, datetime):
            at = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        else:
            at = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
        self.seen[value] = at
        return at


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
    return rows


def _requests(club: str, agent: str, rows: Iterable[Any], times: _Times) -> list[CrmRequest]:
    """Each request row as the reconciliation's record.

    This and :func:`_outcomes` run once per row of the shift: tuples are unpacked, the
    records built with ``tuple.__new__`` (a NamedTuple's own ``__new__`` is a Python call
    more) and the times looked up in the cache before any call.
    """
    kinds, new, seen = _KINDS, tuple.__new__, times.seen
    out = []
    for request_id, kind, cash, card, prepaid, total, received_at, paid_at in rows:
        received = seen.get(received_at) or times(received_at)
        paid = (seen.get(paid_at) or times(paid_at)) if paid_at is not None else None
        pay = new(Payments, (cash, card, prepaid))
        out.append(
            new(CrmRequest, (club, agent, request_id, kinds[kind], pay, total, received, paid))
        )
    return out


def _outcomes(rows: Iterable[Any], times: _Times) -> list[RequestOutcome]:
    """Each result row as the reconciliation's outcome (with its Fiscal when it has one)."""
    new, seen = tuple.__new__, times.seen
    out = []
    for (
        result_id,
        status,
        fn,
        fd,
        fp,
        shift,
        total,
        issued_at,
        doc_id,
        doc_type,
        mark,
        error_code,
    ) in rows:
        fiscal = None
        if fn is not None:
            issued = seen.get(issued_at) or times(issued_at)
            fiscal = new(
                Fiscal,
                (
                    fn,
                    fd,
                    fp,
                    total if total is not None else _ZERO,
                    issued,
                    doc_id or f"{fn}:{fd}",
                    shift,
                    None,
                    doc_type or "receipt",
                    mark,
                ),
            )
        out.append(new(RequestOutcome, (result_id, status, fiscal, error_code)))
    return out


def _document(row: Any, times: _Times) -> RegisterDocument:  # noqa: ANN401 - a document row
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
        issued_at=times(row.issued_at),
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
    # Not ordered: the reconciliation sorts its rows by time and id, and an id is unique
    # per agent in both tables; a sort of 100,000 rows would be a quarter of the read.
    request_rows = await _all(
        conn, select(*_REQUEST_COLUMNS).where(req.club == club, req.agent == agent, in_window)
    )
    result_rows = await _all(
        conn,
        select(*_RESULT_COLUMNS).where(res.club == club, res.agent == agent, res.shift == shift),
    )
    document_rows = await _all(
        conn,
        select(documents)
        .where(doc.club == club, doc.agent == agent, doc.shift == shift)
        .order_by(doc.pk),
    )
    # Requests placed elsewhere whose document is in this shift (a superset: a request read
    # for a result of the shift that is not done makes no row, as before).
    first = itemgetter(0)
    window_ids = set(map(first, request_rows))
    shift_ids = set(map(first, result_rows))
    marks = {row.mark for row in document_rows if row.mark is not None}
    extra_rows = await _by_ids(
        conn,
        crm_requests,
        _REQUEST_COLUMNS,
        (req.club == club) & (req.agent == agent),
        (shift_ids | marks) - window_ids,
    )
    request_rows += extra_rows
    # Results of this shift's requests printed in another shift, or not printed.
    result_rows += await _by_ids(
        conn,
        results,
        _RESULT_COLUMNS,
        (res.club == club) & (res.agent == agent),
        (window_ids | set(map(first, extra_rows))) - shift_ids,
    )
    tx = transactions.c
    tx_window = tx.at >= start
    if end is not None:
        tx_window = tx_window & (tx.at < end)
    tx_rows = await _all(
        conn,
        select(tx.id, tx.kind, tx.amount, tx.at).where(tx.club == club, tx_window).order_by(tx.pk),
    )
    times = _Times()
    return ShiftInputs(
        requests=_requests(club, agent, request_rows, times),
        results=_outcomes(result_rows, times),
        documents=[_document(row, times) for row in document_rows],
        # A posted transaction is an app payment, paid online: card (shift_reconciliation).
        transactions=[
            AppTransaction(
                id=row.id, kind=_KINDS[row.kind], payments=Payments(card=row.amount), at=row.at
            )
            for row in tx_rows
        ],
    )
