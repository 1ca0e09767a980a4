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
outside those ranges are then read by id. All of it is one read snapshot, run as SQL text on
the driver (cloud.store.driver_sql: a shift may be 200,000 rows, and SQLAlchemy's per-row
work was a third of the read). Rows become the reconciliation's own records
(cloud.reconcile_model) straight from the typed columns, in the order the rows arrived.

The result is paired with its request for :func:`cloud.reconcile.reconcile_paired`: each
request comes with its ``done`` document, and no result record is made for it. On SQLite
the database pairs them (each request read joined to its result by the unique (club, agent,
id) index, one row per request; the shift's results are then only counted, and read by id
when some came with no request of the window). On PostgreSQL the requests and results are
read apart and paired here by id: without statistics (a fresh or bulk-loaded database before
ANALYZE) its planner runs that join as a scan of the agent's results per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, repeat
from operator import itemgetter, not_
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud.gc_pause import gc_paused
from cloud.reconcile_model import (
    Adoption,
    AppTransaction,
    CrmRequest,
    Fiscal,
    Kind,
    Payments,
    RegisterDocument,
    RequestOutcome,
)
from cloud.store.driver_sql import DriverSql, TimeOf

__all__ = ["ShiftInputs", "read_shift_inputs"]

_IDS_PER_QUERY: Final = 500
_KINDS: Final = {kind.value: kind for kind in Kind}
_REQUEST_ID: Final = itemgetter(2)  # a CrmRequest's id
_RESULT_SHIFT: Final = itemgetter(16)  # a request row's result's shift (:attr:`_Sql.requests`)
DONE: Final = "done"
RECEIPT: Final = "receipt"

Rows = Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class ShiftInputs:
    """What :func:`cloud.reconcile.reconcile_paired` takes for one agent's shift.

    ``fiscals[i]`` is the document of ``requests[i]``'s ``done`` result (None: it has none);
    ``results`` holds every other result read (not ``done``, or of no request read).
    """

    requests: list[CrmRequest]
    fiscals: list[Fiscal | None]
    results: list[RequestOutcome]
    documents: list[RegisterDocument]
    transactions: list[AppTransaction]


@dataclass(frozen=True, slots=True)
class _Sql:
    """The shift read's statements for one driver (see :class:`DriverSql`).

    Only constant text is put together here (column lists, ``?`` placeholders); every value
    is a bound parameter.
    """

    requests: str  # each request with its result's columns: ... WHERE q.club = ? AND q.agent = ?
    requests_apart: str  # each request alone: ... WHERE club = ? AND agent = ?
    results: str  # ... WHERE club = ? AND agent = ?
    shift_count: str  # club, agent, shift
    shift_ids: str  # the same
    documents: str  # club, agent, shift
    transactions: str  # club

    @classmethod
    def of(cls, db: DriverSql) -> _Sql:
        t = db.time
        shift_results = "FROM results WHERE club = ? AND agent = ? AND shift = ?"
        return cls(
            # A request's columns, then its result's (NULL: none) as in ``results`` but its id,
            # in three ways that spare a string per row (see _fiscals): a missing result's
            # time is the request's (any time: no Fiscal is made for it), type ``receipt``
            # is NULL, and a mark that is the request's id is NULL and flagged after it.
            requests=(
                "SELECT q.id, q.kind, q.cash, q.card, q.prepaid, q.total, "  # noqa: S608
                f"{t('q.received_at')}, {t('q.paid_at')}, "
                "r.status, r.error_code, r.fn, r.fd, r.fp, COALESCE(r.total, 0), "
                f"{t('CASE WHEN r.id IS NULL THEN q.received_at ELSE r.issued_at END')}, "
                "COALESCE(NULLIF(r.doc_id, ''), r.fn || ':' || CAST(r.fd AS TEXT)), r.shift, "
                "NULL, NULLIF(COALESCE(NULLIF(r.type, ''), 'receipt'), 'receipt'), "
                "NULLIF(r.mark, q.id), r.mark = q.id "
                "FROM crm_requests q LEFT JOIN results r "
                "ON r.club = q.club AND r.agent = q.agent AND r.id = q.id "
                "WHERE q.club = ? AND q.agent = ?"
            ),
            requests_apart=(
                f"SELECT id, kind, cash, card, prepaid, total, {t('received_at')}, "  # noqa: S608
                f"{t('paid_at')} FROM crm_requests WHERE club = ? AND agent = ?"
            ),
            # id, status, error code, then Fiscal's fields with its defaults.
            results=(
                "SELECT id, status, error_code, fn, fd, fp, COALESCE(total, 0), "  # noqa: S608
                f"{t('issued_at')}, "
                "COALESCE(NULLIF(doc_id, ''), fn || ':' || CAST(fd AS TEXT)), shift, NULL, "
                "COALESCE(NULLIF(type, ''), 'receipt'), mark "
                "FROM results WHERE club = ? AND agent = ?"
            ),
            documents=(
                f"SELECT fn, fd, type, shift, {t('issued_at')}, kind, total, mark, "  # noqa: S608
                f"adopted_by, adopted_reason, {t('adopted_at')}, adopted_role, cash, card, "
                "prepaid FROM documents WHERE club = ? AND agent = ? AND shift = ? ORDER BY pk"
            ),
            transactions=(
                f"SELECT id, kind, amount, {t('at')} FROM transactions WHERE club = ?"  # noqa: S608
            ),
            shift_count=f"SELECT COUNT(*) {shift_results}",
            shift_ids=f"SELECT id {shift_results}",
        )

    @staticmethod
    def window(column: str, *, bounded: bool) -> str:
        """``column`` from the first bound parameter (and before the second when bounded)."""
        return f" AND {column} >= ?" + (f" AND {column} < ?" if bounded else "")

    @staticmethod
    def ids(count: int, column: str = "id") -> str:
        """``column`` among ``count`` bound parameters."""
        return f" AND {column} IN ({', '.join('?' * count)})"


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        yield ordered[start : start + _IDS_PER_QUERY]


async def _by_ids(
    db: DriverSql, select: str, club: str, agent: str, ids: set[str], *, column: str = "id"
) -> list[Any]:
    """``select`` (``... WHERE club = ? AND agent = ?``) of the rows with these ids."""
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += await db.rows(select + _Sql.ids(len(chunk), column), club, agent, *chunk)
    return rows


def _times(values: Sequence[Any], times: TimeOf | None) -> Sequence[Any]:
    """A column of times as aware UTC datetimes (None stays None)."""
    if times is None or values.count(None) == len(values):
        return values
    if None in values:
        return [times(value) if value is not None else None for value in values]
    return list(map(times, values))


def _paired(
    club: str, agent: str, rows: Rows, times: TimeOf | None
) -> tuple[list[CrmRequest], list[Fiscal | None], list[RequestOutcome]]:
    """Each request row (:attr:`_Sql.requests`) as its record and its ``done`` document.

    Returns the requests, their documents (None: no ``done`` result with one) and the
    results of the others that have one. This builds two records per row of the shift,
    100,000 of each in a large one: the rows are turned into columns and the records built by
    ``map`` over ``tuple.__new__`` (the NamedTuples' own ``__new__`` is a Python call per
    record), so no Python code runs per row in the common case (every result ``done``).
    """
    if not rows:
        return [], [], []
    columns = list(zip(*rows, strict=True))
    requests = _requests(club, agent, columns[:8], times)
    ids, statuses, errors, fns = columns[0], columns[8], columns[9], columns[10]
    types: Iterable[str] = repeat(RECEIPT, len(ids))  # NULL for receipt (see _Sql)
    if columns[18].count(None) != len(ids):
        types = [RECEIPT if doc_type is None else doc_type for doc_type in columns[18]]
    marks, mark_is_id = columns[19], columns[20]  # NULL and flagged when it is the id
    if list(compress(mark_is_id, fns)).count(True) == len(fns) - fns.count(None):
        marks = ids  # every document's mark is its request's id (those of no fn: no Fiscal)
    else:
        marks = tuple(
            request_id if same else mark
            for request_id, mark, same in zip(ids, marks, mark_is_id, strict=True)
        )
    fiscals = _fiscals([*columns[10:18], types, marks], times)
    none = statuses.count(None)  # no result: no fn either
    if statuses.count(DONE) + none == len(statuses) and fns.count(None) == none:
        return requests, fiscals, []
    others: list[RequestOutcome] = []
    for i, (request_id, status, error) in enumerate(zip(ids, statuses, errors, strict=True)):
        fiscal = fiscals[i]
        if status is not None and (status != DONE or fiscal is None):
            others.append(RequestOutcome(request_id, status, fiscal, error))
            fiscals[i] = None
    return requests, fiscals, others


def _fiscals(columns: Sequence[Any], times: TimeOf | None) -> list[Fiscal | None]:
    """Each row's :class:`Fiscal` from its columns in that order (None where fn is None).

    The fn and issued_at columns are sequences, the others any iterables.
    """
    fns, fds, fps, totals, issued_at, doc_ids, shifts, kinds, types, marks = columns
    fields = zip(
        fns,
        fds,
        fps,
        totals,
        _times(issued_at, times),
        doc_ids,
        shifts,
        kinds,
        types,
        marks,
        strict=True,
    )
    fiscals: list[Fiscal | None] = list(map(tuple.__new__, repeat(Fiscal, len(fns)), fields))
    at = -1
    with suppress(ValueError):  # index's way of saying there is no further None
        while True:
            at = fns.index(None, at + 1)  # a result with no document, or no result
            fiscals[at] = None
    return fiscals


def _requests(
    club: str, agent: str, columns: Sequence[Sequence[Any]], times: TimeOf | None
) -> list[CrmRequest]:
    """Each request as the reconciliation's record, from its 8 columns."""
    ids, kinds, cash, card, prepaid, totals, received_at, paid_at = columns
    new, count = tuple.__new__, len(ids)
    payments = map(new, repeat(Payments, count), zip(cash, card, prepaid, strict=True))
    fields = zip(
        repeat(club, count),
        repeat(agent, count),
        ids,
        map(_KINDS.__getitem__, kinds),
        payments,
        totals,
        _times(received_at, times),
        _times(paid_at, times),
        strict=True,
    )
    return list(map(new, repeat(CrmRequest, count), fields))


def _pair_by_id(
    requests: list[CrmRequest], asked: set[str], rows: Rows, times: TimeOf | None
) -> tuple[list[Fiscal | None], list[RequestOutcome]]:
    """Each request's ``done`` document among the result rows, and the other results.

    The rows are :attr:`_Sql.results`'s; ``asked`` is the requests' ids. The other results
    (not ``done`` with a document, or of no request read) are made records. An id is one
    result per agent (a unique key).
    """
    if not rows:
        return [None] * len(requests), []
    columns = list(zip(*rows, strict=True))
    ids, statuses, errors, fns = columns[:4]
    fiscals = _fiscals(columns[3:], times)
    by_id = dict(zip(ids, fiscals, strict=True))
    unpaired = list(map(not_, map(asked.__contains__, ids)))  # of no request read
    if statuses.count(DONE) != len(ids) or None in fns:
        unpaired = [
            alone or status != DONE or fiscal is None
            for alone, status, fiscal in zip(unpaired, statuses, fiscals, strict=True)
        ]
    others = []
    for i in compress(range(len(ids)), unpaired):
        by_id[ids[i]] = None
        others.append(RequestOutcome(ids[i], statuses[i], fiscals[i], errors[i]))
    return list(map(by_id.get, map(_REQUEST_ID, requests))), others


def _outcomes(rows: Rows, times: TimeOf | None) -> list[RequestOutcome]:
    """Each result row as the reconciliation's outcome (with its Fiscal when it has one).

    The select gives a result's fiscal fields in :class:`Fiscal`'s order, with its defaults
    (total 0, doc_id ``<FN>:<FD>``, type ``receipt``) already applied (:class:`_Sql`).
    """
    if not rows:
        return []
    ids, statuses, errors, *fiscal_columns = zip(*rows, strict=True)
    new, count = tuple.__new__, len(ids)
    fiscals = _fiscals(fiscal_columns, times)
    outcomes = zip(ids, statuses, fiscals, errors, strict=True)
    return list(map(new, repeat(RequestOutcome, count), outcomes))


def _document(row: Sequence[Any], times: TimeOf | None) -> RegisterDocument:
    (
        fn,
        fd,
        doc_type,
        shift,
        issued_at,
        kind,
        total,
        mark,
        adopted_by,
        adopted_reason,
        adopted_at,
        adopted_role,
        cash,
        card,
        prepaid,
    ) = row
    if times is not None:
        issued_at = times(issued_at)
        adopted_at = times(adopted_at) if adopted_at is not None else None
    adopted = None
    if adopted_at is not None:
        adopted = Adoption(by=adopted_by, reason=adopted_reason, at=adopted_at, role=adopted_role)
    payments = None
    if cash is not None:
        payments = Payments(cash=cash, card=card, prepaid=prepaid)
    return RegisterDocument(
        fn=fn,
        fd=fd,
        type=doc_type,
        shift=shift,
        issued_at=issued_at,
        kind=_KINDS[kind] if kind is not None else None,
        total=total,
        mark=mark,
        adopted=adopted,
        payments=payments,
    )


def _transaction(row: Sequence[Any], times: TimeOf | None) -> AppTransaction:
    """A posted transaction is an app payment, paid online: card (shift_reconciliation)."""
    tx_id, kind, amount, at = row
    return AppTransaction(
        id=tx_id,
        kind=_KINDS[kind],
        payments=Payments(card=amount),
        at=times(at) if times is not None else at,
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
    ``conn`` must not have begun a transaction: the read is one snapshot of its own.
    """
    with gc_paused():
        return await _read(conn, club, agent, shift=shift, start=start, end=end)


async def _read(
    conn: AsyncConnection,
    club: str,
    agent: str,
    *,
    shift: int,
    start: datetime,
    end: datetime | None,
) -> ShiftInputs:
    db = await DriverSql.of(conn)
    sql = _Sql.of(db)
    window_params: tuple[object, ...] = (db.param_time(start),)
    if end is not None:
        window_params += (db.param_time(end),)
    bounded = end is not None
    if db.postgres:
        return await _read_apart(db, sql, club, agent, shift=shift, window=window_params)
    first = itemgetter(0)
    async with db.snapshot():
        # Not ordered: the reconciliation sorts its rows by time and id, and an id is unique
        # per agent in both tables; a sort of 100,000 rows would be a quarter of the read.
        request_rows = list(
            await db.rows(
                sql.requests + sql.window("q.placed_at", bounded=bounded),
                club,
                agent,
                *window_params,
            )
        )
        document_rows = await db.rows(sql.documents, club, agent, shift)
        # The shift's results not read with a request of the window: those of requests
        # placed elsewhere, and those of no request. Usually none: every result of the
        # shift came with its request (counted; the ids are read only when some did not).
        ((in_shift,),) = await db.rows(sql.shift_count, club, agent, shift)
        elsewhere: set[str] = set()
        window_ids: set[str] = set()
        if list(map(_RESULT_SHIFT, request_rows)).count(shift) != in_shift:
            window_ids = set(map(first, request_rows))
            shift_ids = await db.rows(sql.shift_ids, club, agent, shift)
            elsewhere = set(map(first, shift_ids)) - window_ids
        # Requests placed elsewhere whose document is in this shift (a superset: a request
        # read for a result of the shift that is not done makes no row, as before).
        marks = {row[7] for row in document_rows if row[7] is not None}
        if marks and not window_ids:
            window_ids = set(map(first, request_rows))
        extra_rows = await _by_ids(
            db, sql.requests, club, agent, (elsewhere | marks) - window_ids, column="q.id"
        )
        request_rows += extra_rows
        # Results of this shift for no request.
        result_rows = await _by_ids(
            db, sql.results, club, agent, elsewhere - set(map(first, extra_rows))
        )
        tx_rows = await db.rows(
            sql.transactions + sql.window("at", bounded=bounded) + " ORDER BY pk",
            club,
            *window_params,
        )
    times = db.times
    requests, fiscals, others = _paired(club, agent, request_rows, times)
    return ShiftInputs(
        requests=requests,
        fiscals=fiscals,
        results=others + _outcomes(result_rows, times),
        documents=[_document(row, times) for row in document_rows],
        transactions=[_transaction(row, times) for row in tx_rows],
    )


async def _read_apart(
    db: DriverSql, sql: _Sql, club: str, agent: str, *, shift: int, window: tuple[object, ...]
) -> ShiftInputs:
    """PostgreSQL's read: the requests and the results apart, then paired here by id.

    Without statistics on the tables (a fresh or bulk-loaded database, before ANALYZE) its
    planner joins the 100,000 requests to their results with a scan of the agent's results
    for each request; two indexed reads cannot go wrong so.
    """
    window_params, bounded = window, len(window) > 1
    first = itemgetter(0)
    async with db.snapshot():
        request_rows = list(
            await db.rows(
                sql.requests_apart + sql.window("placed_at", bounded=bounded),
                club,
                agent,
                *window_params,
            )
        )
        result_rows = list(await db.rows(f"{sql.results} AND shift = ?", club, agent, shift))
        document_rows = await db.rows(sql.documents, club, agent, shift)
        # Requests placed elsewhere whose document is in this shift (a superset: a request
        # read for a result of the shift that is not done makes no row, as before).
        window_ids = set(map(first, request_rows))
        shift_ids = set(map(first, result_rows))
        marks = {row[7] for row in document_rows if row[7] is not None}
        extra_rows = await _by_ids(
            db, sql.requests_apart, club, agent, (shift_ids | marks) - window_ids
        )
        request_rows += extra_rows
        # Results of this shift's requests printed in another shift, or not printed.
        result_rows += await _by_ids(
            db,
            sql.results,
            club,
            agent,
            (asked := window_ids | set(map(first, extra_rows))) - shift_ids,
        )
        tx_rows = await db.rows(
            sql.transactions + sql.window("at", bounded=bounded) + " ORDER BY pk",
            club,
            *window_params,
        )
    times = db.times
    requests = (
        _requests(club, agent, list(zip(*request_rows, strict=True)), times) if request_rows else []
    )
    fiscals, others = _pair_by_id(requests, asked, result_rows, times)
    return ShiftInputs(
        requests=requests,
        fiscals=fiscals,
        results=others,
        documents=[_document(row, times) for row in document_rows],
        transactions=[_transaction(row, times) for row in tx_rows],
    )
