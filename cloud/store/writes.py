"""The store's writes, each a batch in the caller's transaction; idempotent by construction.

Every write is ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL both have it, through
SQLAlchemy's dialect ``insert()``), so a redelivered message changes nothing:

- a CRM request, a document (by fn, fd), an open or Z report and a transaction are written
  once: the first copy stays;
- a result replaces the stored one for its id only while that one is not final
  (pending, printing, unknown, failed) and says something else; done and rejected are final;
- an X report replaces the stored X of its shift when it is at least as far into the shift:
  ``(last_fd, sales.count + refunds.count)`` not lower, and says something else.

A batch, of one agent or of many (the ingest's), is folded by key first by the same rules
(PostgreSQL refuses one statement that updates a row twice), then written by one
executemany of a statement built once per dialect.

Beside each payload go the typed columns the reconciliation reads (schema version 2): the
row functions here are also what the migration fills an older database's rows with.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Table, and_, or_
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agent.contract import (
    FiscalDocument,
    ReceiptRequest,
    ReceiptResult,
    ShiftReport,
    money_to_kopecks,
)
from cloud.reconcile_contract import request_total
from cloud.store.driver_writes import execute_rows
from cloud.store.records import Transaction
from cloud.store.schema import crm_requests, documents, results, shift_reports, transactions

AgentKey = tuple[str, str]
"""(club, agent)."""

__all__ = [
    "FINAL_STATUSES",
    "AgentKey",
    "document_row",
    "request_row",
    "result_row",
    "write_documents",
    "write_requests",
    "write_results",
    "write_shift_reports",
    "write_transactions",
]

FINAL_STATUSES: Final = frozenset({"done", "rejected"})


def upsert(conn: AsyncConnection, table: Table) -> Any:  # noqa: ANN401
    """The dialect's INSERT that has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return _insert(conn.dialect.name, table)


def _insert(dialect: str, table: Table) -> Any:  # noqa: ANN401 - a dialect's Insert
    if dialect == "postgresql":
        # Imported here: a SQLite store's process (the ingest's start) does without it.
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        return postgresql.insert(table)
    return sqlite.insert(table)


def _results_upsert(dialect: str) -> Any:  # noqa: ANN401 - a dialect's Insert
    stmt = _insert(dialect, results)
    new = stmt.excluded
    replace = (
        "status",
        "fn",
        "fd",
        "fp",
        "shift",
        "total",
        "issued_at",
        "doc_id",
        "type",
        "mark",
        "error_code",
        "payload",
        "received_at",
    )
    return stmt.on_conflict_do_update(
        index_elements=["club", "agent", "id"],
        set_={name: new[name] for name in replace},
        where=and_(
            # Not ``NOT IN``: an expanding parameter cannot go through executemany.
            *(results.c.status != status for status in sorted(FINAL_STATUSES)),
            results.c.payload != new.payload,
        ),
    )


def _reports_upsert(dialect: str) -> Any:  # noqa: ANN401 - a dialect's Insert
    stmt = _insert(dialect, shift_reports)
    new = stmt.excluded
    stored = shift_reports.c
    further = or_(
        new.last_fd > stored.last_fd,
        and_(new.last_fd == stored.last_fd, new.receipts >= stored.receipts),
    )
    return stmt.on_conflict_do_update(
        index_elements=["club", "agent", "shift", "kind"],
        set_={
            "fn": new.fn,
            "last_fd": new.last_fd,
            "receipts": new.receipts,
            "payload": new.payload,
            "received_at": new.received_at,
        },
        where=and_(stored.kind == "x", further, stored.payload != new.payload),
    )


@functools.cache
def _cached_statement(dialect: str, kind: str) -> Any:  # noqa: ANN401 - a dialect's Insert
    match kind:
        case "requests":
            return _insert(dialect, crm_requests).on_conflict_do_nothing(
                index_elements=["club", "agent", "id"]
            )
        case "results":
            return _results_upsert(dialect)
        case "documents":
            return _insert(dialect, documents).on_conflict_do_nothing(index_elements=["fn", "fd"])
        case "shift_reports":
            return _reports_upsert(dialect)
        case "transactions":
            return _insert(dialect, transactions).on_conflict_do_nothing(
                index_elements=["club", "id"]
            )
    raise ValueError(kind)


def _statement(conn: AsyncConnection, kind: str) -> Any:  # noqa: ANN401 - a dialect's Insert
    """Each write's statement, built once per dialect.

    Building one costs more than running it for a small batch: its ``excluded`` columns
    alone are a dozen objects.
    """
    return _cached_statement(conn.dialect.name, kind)


def _kopecks(value: Decimal | None) -> int | None:
    return money_to_kopecks(value) if value is not None else None


def request_row(
    club: str, agent: str, request: ReceiptRequest, received_at: datetime
) -> dict[str, object]:
    """A ``cmd/receipt`` as stored: its payload and what the reconciliation reads of it."""
    # paid_at is v1.1 of docs/contract.md; a model without the field gives None.
    paid_at = getattr(request, "paid_at", None)
    pay = request.payments
    return {
        "club": club,
        "agent": agent,
        "id": request.id,
        "payload": request.model_dump_json(exclude_none=True),
        "received_at": received_at,
        "paid_at": paid_at,
        "kind": request.kind,
        "cash": money_to_kopecks(pay.cash) if pay.cash is not None else 0,
        "card": money_to_kopecks(pay.card) if pay.card is not None else 0,
        "prepaid": money_to_kopecks(pay.prepaid) if pay.prepaid is not None else 0,
        "total": request_total(request),
        "placed_at": paid_at if paid_at is not None else received_at,
    }


async def write_requests(
    conn: AsyncConnection,
    batches: Mapping[AgentKey, Sequence[ReceiptRequest]],
    received_at: datetime,
) -> None:
    """Store each ``cmd/receipt`` of every agent given; the first copy of an id stays."""
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for (club, agent), batch in batches.items():
        for request in batch:
            if (club, agent, request.id) not in rows:
                rows[club, agent, request.id] = request_row(club, agent, request, received_at)
    if rows:
        await execute_rows(conn, _statement(conn, "requests"), rows.values())


def result_row(club: str, agent: str, result: ReceiptResult, at: datetime) -> dict[str, object]:
    """An ``evt/receipt`` as stored: its payload, its fiscal fields and its error code."""
    fiscal = result.fiscal
    return {
        "club": club,
        "agent": agent,
        "id": result.id,
        "status": result.status,
        "fn": fiscal.fn if fiscal else None,
        "fd": fiscal.fd if fiscal else None,
        "fp": fiscal.fp if fiscal else None,
        "shift": fiscal.shift if fiscal else None,
        "total": money_to_kopecks(fiscal.total) if fiscal else None,
        "issued_at": fiscal.issued_at if fiscal else None,
        "doc_id": fiscal.doc_id if fiscal else None,
        "type": fiscal.type if fiscal else None,
        "mark": fiscal.mark if fiscal else None,
        "error_code": result.error.code if result.error is not None else None,
        "payload": result.model_dump_json(exclude_none=True),
        "received_at": at,
    }


async def write_results(
    conn: AsyncConnection,
    batches: Mapping[AgentKey, Sequence[ReceiptResult]],
    received_at: datetime,
) -> None:
    """Store each result; a later one replaces a non-final one, never a done or rejected one."""
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for (club, agent), batch in batches.items():
        for result in batch:
            key = (club, agent, result.id)
            held = rows.get(key)
            if held is None or held["status"] not in FINAL_STATUSES:
                rows[key] = result_row(club, agent, result, received_at)
    if rows:
        await execute_rows(conn, _statement(conn, "results"), rows.values())


async def write_documents(
    conn: AsyncConnection,
    batches: Mapping[AgentKey, Sequence[FiscalDocument]],
    received_at: datetime,
) -> None:
    """Store each FN document once; (fn, fd) names it, whoever reports it again."""
    rows: dict[tuple[str, int], dict[str, object]] = {}
    for (club, agent), batch in batches.items():
        for doc in batch:
            if (doc.fn, doc.fd) not in rows:
                rows[doc.fn, doc.fd] = document_row(club, agent, doc, received_at)
    if rows:
        await execute_rows(conn, _statement(conn, "documents"), rows.values())


def document_row(
    club: str, agent: str, doc: FiscalDocument, received_at: datetime
) -> dict[str, object]:
    """An ``evt/document`` as stored, with its payment split when the agent reported one."""
    pay = doc.payments  # v1.1 of docs/contract.md: None from an older agent
    return {
        "fn": doc.fn,
        "fd": doc.fd,
        "doc_id": doc.doc_id,
        "club": club,
        "agent": agent,
        "type": doc.type,
        "kind": doc.kind,
        "total": _kopecks(doc.total),
        "shift": doc.shift,
        "issued_at": doc.issued_at,
        "mark": doc.mark,
        "payload": doc.model_dump_json(exclude_none=True),
        "received_at": received_at,
        "cash": (_kopecks(pay.cash) or 0) if pay is not None else None,
        "card": (_kopecks(pay.card) or 0) if pay is not None else None,
        "prepaid": (_kopecks(pay.prepaid) or 0) if pay is not None else None,
    }


def _report_row(club: str, agent: str, report: ShiftReport, at: datetime) -> dict[str, object]:
    counters = report.counters
    return {
        "club": club,
        "agent": agent,
        "shift": report.shift,
        "kind": report.kind,
        "fn": report.fn,
        "last_fd": counters.last_fd or 0,
        "receipts": counters.sales.count + counters.refunds.count,
        "payload": report.model_dump_json(exclude_none=True),
        "received_at": at,
    }


def _x_progress(row: dict[str, object]) -> tuple[int, int]:
    last_fd, receipts = row["last_fd"], row["receipts"]
    assert isinstance(last_fd, int)
    assert isinstance(receipts, int)
    return (last_fd, receipts)


async def write_shift_reports(
    conn: AsyncConnection,
    batches: Mapping[AgentKey, Sequence[ShiftReport]],
    received_at: datetime,
) -> None:
    """Store open and Z reports once and the furthest X report of each shift."""
    rows: dict[tuple[str, str, int, str], dict[str, object]] = {}
    for (club, agent), batch in batches.items():
        for report in batch:
            key = (club, agent, report.shift, report.kind)
            row = _report_row(club, agent, report, received_at)
            held = rows.get(key)
            if held is None or (report.kind == "x" and _x_progress(row) >= _x_progress(held)):
                rows[key] = row
    if rows:
        await execute_rows(conn, _statement(conn, "shift_reports"), rows.values())


async def write_transactions(
    conn: AsyncConnection, club: str, batch: Sequence[Transaction], received_at: datetime
) -> None:
    """Store each CRM transaction once by (club, id)."""
    rows: dict[str, dict[str, object]] = {}
    for tx in batch:
        rows.setdefault(
            tx.id,
            {
                "club": club,
                "id": tx.id,
                "amount": money_to_kopecks(tx.amount),
                "kind": tx.kind,
                "at": tx.at,
                "received_at": received_at,
            },
        )
    if rows:
        await execute_rows(conn, _statement(conn, "transactions"), rows.values())
