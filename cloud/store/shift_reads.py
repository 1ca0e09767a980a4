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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import itemgetter
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

Rows = Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class ShiftInputs:
    """What :func:`cloud.reconcile.reconcile` takes for one agent's shift."""

    requests: list[CrmRequest]
    results: list[RequestOutcome]
    documents: list[RegisterDocument]
    transactions: list[AppTransaction]


@dataclass(frozen=True, slots=True)
class _Sql:
    """The shift read's statements for one driver (see :class:`DriverSql`).

    Only constant text is put together here (column lists, ``?`` placeholders); every value
    is a bound parameter.
    """

    requests: str  # ... WHERE club = ? AND agent = ?
    results: str  # the same
    documents: str  # club, agent, shift
    transactions: str  # club

    @classmethod
    def of(cls, db: DriverSql) -> _Sql:
        t = db.time
        return cls(
            requests=(
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
        )

    @staticmethod
    def window(column: str, *, bounded: bool) -> str:
        """``column`` from the first bound parameter (and before the second when bounded)."""
        return f" AND {column} >= ?" + (f" AND {column} < ?" if bounded else "")

    @staticmethod
    def ids(count: int) -> str:
        """``id`` among ``count`` bound parameters."""
        return f" AND id IN ({', '.join('?' * count)})"


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        yield ordered[start : start + _IDS_PER_QUERY]


async def _by_ids(db: DriverSql, select: str, club: str, agent: str, ids: set[str]) -> list[Any]:
    """``select`` (``... WHERE club = ? AND agent = ?``) of the rows with these ids."""
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += await db.rows(select + _Sql.ids(len(chunk)), club, agent, *chunk)
    return rows


def _times(values: Sequence[Any], times: TimeOf | None) -> Sequence[Any]:
    """A column of times as aware UTC datetimes (None stays None)."""
    if times is None:
        return values
    if None in values:
        return [times(value) if value is not None else None for value in values]
    return list(map(times, values))


def _requests(club: str, agent: str, rows: Rows, times: TimeOf | None) -> list[CrmRequest]:
    """Each request row as the reconciliation's record.

    This and :func:`_outcomes` build a record per row of the shift, 100,000 of each in a
    large one: the rows are turned into columns and the records built by ``map`` over
    ``tuple.__new__`` (the NamedTuples' own ``__new__`` is a Python call per record), so no
    Python code runs per row.
    """
    if not rows:
        return []
    ids, kinds, cash, card, prepaid, totals, received_at, paid_at = zip(*rows, strict=True)
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


def _outcomes(rows: Rows, times: TimeOf | None) -> list[RequestOutcome]:
    """Each result row as the reconciliation's outcome (with its Fiscal when it has one).

    The select gives a result's fiscal fields in :class:`Fiscal`'s order, with its defaults
    (total 0, doc_id ``<FN>:<FD>``, type ``receipt``) already applied (:class:`_Sql`).
    """
    if not rows:
        return []
    ids, statuses, errors, fns, *fiscal_columns = zip(*rows, strict=True)
    new, count = tuple.__new__, len(ids)
    fds, fps, totals, issued_at, doc_ids, shifts, kinds, types, marks = fiscal_columns
    fiscal_fields = zip(
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
    built: Iterator[Fiscal] = map(new, repeat(Fiscal, count), fiscal_fields)
    fiscals: Iterable[Fiscal | None] = built
    if None in fns:  # a result with no document (rejected, failed, unknown)
        fiscals = [fiscal if fiscal.fn is not None else None for fiscal in built]
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
    async with db.snapshot():
        # Not ordered: the reconciliation sorts its rows by time and id, and an id is unique
        # per agent in both tables; a sort of 100,000 rows would be a quarter of the read.
        request_rows = list(
            await db.rows(
                sql.requests + sql.window("placed_at", bounded=bounded),
                club,
                agent,
                *window_params,
            )
        )
        result_rows = list(await db.rows(f"{sql.results} AND shift = ?", club, agent, shift))
        document_rows = await db.rows(sql.documents, club, agent, shift)
        # Requests placed elsewhere whose document is in this shift (a superset: a request
        # read for a result of the shift that is not done makes no row, as before).
        first = itemgetter(0)
        window_ids = set(map(first, request_rows))
        shift_ids = set(map(first, result_rows))
        marks = {row[7] for row in document_rows if row[7] is not None}
        extra_rows = await _by_ids(db, sql.requests, club, agent, (shift_ids | marks) - window_ids)
        request_rows += extra_rows
        # Results of this shift's requests printed in another shift, or not printed.
        result_rows += await _by_ids(
            db,
            sql.results,
            club,
            agent,
            (window_ids | set(map(first, extra_rows))) - shift_ids,
        )
        tx_rows = await db.rows(
            sql.transactions + sql.window("at", bounded=bounded) + " ORDER BY pk",
            club,
            *window_params,
        )
    times = db.times
    return ShiftInputs(
        requests=_requests(club, agent, request_rows, times),
        results=_outcomes(result_rows, times),
        documents=[_document(row, times) for row in document_rows],
        transactions=[_transaction(row, times) for row in tx_rows],
    )
