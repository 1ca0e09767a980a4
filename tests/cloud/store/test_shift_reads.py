"""The shift's own read (schema v2) reconciles as the whole agent's history did, on both databases.

``load_reconciliation`` reads one shift's window and the few rows outside it that the shift
needs (cloud.store.shift_reads). These tests write two shifts with payments that cross them
and compare it with the reconciliation of *everything* the agent ever sent, the read it
replaced; and a version 1 database (no typed columns) migrated on open reconciles the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.reconcile import reconcile
from cloud.reconcile_contract import (
    document_from_contract,
    outcome_from_contract,
    request_from_contract,
)
from cloud.reconcile_model import Adoption, Reconciliation
from cloud.shift_reconciliation import app_transaction, load_reconciliation, shift_windows
from cloud.store import CloudStore, Transaction
from cloud.store.engine import MIGRATIONS, create_engine
from cloud.store.schema import (
    ADDED_IN_V2,
    crm_requests,
    documents,
    results,
    schema_version,
    shift_reports,
    transactions,
)
from cloud.store.writes import document_row, request_row, result_row
from tests.support.payloads import money, receipt

pytestmark = pytest.mark.timeout(60)

C, A = "club-1", "desk-1"
FN = "9289000100346765"
MSK = "+03:00"
# Shift 12: 5 Jan 09:00 to 6 Jan 08:30 (+03:00); shift 13 from 6 Jan 09:00, still open.
IN_12 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
IN_13 = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


class SetClock:
    """The store's clock, set by the test before each write."""

    def __init__(self) -> None:
        self.now = IN_12

    def __call__(self) -> datetime:
        return self.now


def _request(request_id: str, kopecks: int, pay: str = "cash") -> ReceiptRequest:
    return ReceiptRequest.model_validate(receipt(request_id, kopecks, pay=pay))


def _done(request_id: str, fd: int, kopecks: int, shift: int) -> ReceiptResult:
    day = 5 if shift == 12 else 6
    return ReceiptResult.model_validate(
        {
            "id": request_id,
            "status": "done",
            "fiscal": {
                "fn": FN,
                "fd": fd,
                "fp": 4000000000 + fd,
                "shift": shift,
                "number": fd % 1000,
                "issued_at": f"2026-01-0{day}T15:00:00{MSK}",
                "total": money(kopecks),
                "qr": f"t=2026010{day}T1500&s={money(kopecks)}&fn={FN}&i={fd}&fp=1&n=1",
                "doc_id": f"{FN}:{fd}",
                "mark": request_id,
            },
        }
    )


def _failed(request_id: str) -> ReceiptResult:
    return ReceiptResult.model_validate(
        {"id": request_id, "status": "failed", "error": {"code": "link_down", "message": "down"}}
    )


def _document(fd: int, kopecks: int, shift: int, mark: str | None = None) -> FiscalDocument:
    day = 5 if shift == 12 else 6
    body: dict[str, Any] = {
        "fn": FN,
        "fd": fd,
        "doc_id": f"{FN}:{fd}",
        "type": "receipt",
        "kind": "sale",
        "total": money(kopecks),
        "shift": shift,
        "issued_at": f"2026-01-0{day}T16:00:00{MSK}",
    }
    if mark is not None:
        body["mark"] = mark
    return FiscalDocument.model_validate(body)


def _report(kind: str, shift: int) -> ShiftReport:
    zero = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}
    sales = {"cash": "400.00", "card": "100.00", "prepaid": "0.00", "count": 4}
    opened = "2026-01-05T09:00:00" if shift == 12 else "2026-01-06T09:00:00"
    return ShiftReport.model_validate(
        {
            "kind": kind,
            "shift": shift,
            "fn": FN,
            "opened_at": opened + MSK,
            "closed_at": "2026-01-06T08:30:00+03:00" if kind == "z" else None,
            "counters": {
                "sales": sales if kind != "open" else zero,
                "refunds": zero,
                "cash_in": "0.00",
                "cash_out": "0.00",
                "cash_in_drawer": "400.00",
                "first_fd": 100,
                "last_fd": 120,
            },
        }
    )


# What each write is: (the clock's time, the store call).
Step = tuple[datetime, Callable[[CloudStore], Any]]

STEPS: list[Step] = [
    (IN_12, lambda s: s.record_shift_reports(C, A, [_report("open", 12)])),
    (
        IN_12,
        lambda s: s.record_requests(
            C,
            A,
            [
                _request("a", 10000),  # printed in 12: matched
                _request("b", 20000, pay="card"),  # printed in 13: 13's (no paid_at)
                _request("d", 5000),  # failed: crm_only in 12
                _request("e", 7000),  # no result; a tape document of 13 carries its mark
            ],
        ),
    ),
    (
        IN_12,
        lambda s: s.record_results(
            C, A, [_done("a", 101, 10000, 12), _failed("d"), _done("pos-1", 102, 3000, 12)]
        ),
    ),
    (IN_12, lambda s: s.record_documents(C, A, [_document(103, 35000, 12)])),
    (
        IN_12,
        lambda s: s.record_transactions(
            C, [Transaction(id="app-12", amount=Decimal("50.00"), kind="sale", at=IN_12)]
        ),
    ),
    (IN_13 - timedelta(hours=2), lambda s: s.record_shift_reports(C, A, [_report("z", 12)])),
    (IN_13, lambda s: s.record_shift_reports(C, A, [_report("open", 13)])),
    (IN_13, lambda s: s.record_requests(C, A, [_request("c", 4000), _request("f", 900)])),
    (
        IN_13,
        lambda s: s.record_results(C, A, [_done("b", 201, 20000, 13), _done("f", 202, 900, 13)]),
    ),
    (
        IN_13,
        lambda s: s.record_documents(
            C, A, [_document(203, 7000, 13, mark="e"), _document(204, 1500, 13)]
        ),
    ),
    (
        IN_13,
        lambda s: s.record_transactions(
            C, [Transaction(id="app-13", amount=Decimal("70.00"), kind="refund", at=IN_13)]
        ),
    ),
    # Another agent's and another club's rows never come in.
    (IN_12, lambda s: s.record_requests(C, "desk-2", [_request("a", 1)])),
    (IN_12, lambda s: s.record_results(C, "desk-2", [_done("a", 101, 1, 12)])),
    (IN_12, lambda s: s.record_requests("club-2", A, [_request("x", 1)])),
]


async def _seed(store: CloudStore, clock: SetClock) -> None:
    for at, step in STEPS:
        clock.now = at
        await step(store)
    await store.adopt_document(C, A, f"{FN}:204", role="support", by="Anna", reason="bar")


async def _from_everything(store: CloudStore, shift: int) -> Reconciliation:
    """The reconciliation of every request and result the agent ever sent (the old read)."""
    windows = shift_windows(C, A, await store.shift_reports(C, A))
    (window,) = [w for w in windows if w.number == shift]
    requests = [
        request_from_contract(
            rec.request, club=C, agent=A, received_at=rec.received_at, paid_at=rec.paid_at
        )
        for rec in await store.requests(C, A)
    ]
    outcomes = [outcome_from_contract(rec.result) for rec in await store.results(C, A)]
    docs = [
        document_from_contract(
            rec.document,
            adopted=(
                Adoption(
                    by=rec.adoption.by,
                    reason=rec.adoption.reason,
                    at=rec.adoption.at,
                    role=rec.adoption.role,
                )
                if rec.adoption is not None
                else None
            ),
        )
        for rec in await store.documents(C, A)
    ]
    txs = [app_transaction(tx) for tx in await store.transactions(C)]
    return reconcile(window, requests, outcomes, docs, txs)


def _summary(rec: Reconciliation) -> list[tuple[str, str, bool]]:
    return [(row.id, row.status.value, row.other_shift) for row in rec.rows]


async def test_the_shift_read_reconciles_as_everything_the_agent_sent(any_store_url: str) -> None:
    clock = SetClock()
    async with await CloudStore.open(any_store_url, clock=clock) as store:
        await _seed(store, clock)
        rec12 = await load_reconciliation(store, C, A, 12)
        rec13 = await load_reconciliation(store, C, A, 13)
        assert rec12 == await _from_everything(store, 12)
        assert rec13 == await _from_everything(store, 13)
    # No paid_at: a printed payment is the shift's its document is in (b is 13's, though the
    # cloud received it in 12); one not printed is the shift's it was received in.
    assert sorted(_summary(rec12)) == sorted(
        [
            ("a", "matched", False),
            ("d", "crm_only", False),
            ("e", "crm_only", False),  # its document is on the tape of 13, its result not in
            (f"{FN}:103", "register_only", False),
            ("pos-1", "register_only", False),
        ]
    )
    assert sorted(_summary(rec13)) == sorted(
        [
            ("b", "matched", False),
            ("c", "crm_only", False),
            ("e", "matched", False),
            ("f", "matched", False),
            (f"{FN}:204", "register_only", False),
        ]
    )
    assert rec12.totals.crm_grand_total.card == 5000
    assert rec13.totals.crm_grand_total.card == 20000 - 7000


def _v1(row: dict[str, object], table_name: str) -> dict[str, object]:
    return {k: v for k, v in row.items() if k not in ADDED_IN_V2.get(table_name, ())}


class _Recorder:
    """Takes STEPS' store calls and keeps the rows as a version 1 cloud stored them."""

    def __init__(self) -> None:
        self.at = IN_12
        self.rows: list[tuple[Any, list[dict[str, object]]]] = []

    def _keep(self, table: Any, rows: list[dict[str, object]]) -> None:
        self.rows.append((table, [_v1(row, table.name) for row in rows]))

    async def record_requests(self, club: str, agent: str, batch: list[ReceiptRequest]) -> None:
        self._keep(crm_requests, [request_row(club, agent, r, self.at) for r in batch])

    async def record_results(self, club: str, agent: str, batch: list[ReceiptResult]) -> None:
        self._keep(results, [result_row(club, agent, r, self.at) for r in batch])

    async def record_documents(self, club: str, agent: str, batch: list[FiscalDocument]) -> None:
        self._keep(documents, [document_row(club, agent, d, self.at) for d in batch])

    async def record_shift_reports(self, club: str, agent: str, batch: list[ShiftReport]) -> None:
        self._keep(
            shift_reports,
            [
                {
                    "club": club,
                    "agent": agent,
                    "shift": r.shift,
                    "kind": r.kind,
                    "fn": r.fn,
                    "last_fd": r.counters.last_fd or 0,
                    "receipts": r.counters.sales.count + r.counters.refunds.count,
                    "payload": r.model_dump_json(exclude_none=True),
                    "received_at": self.at,
                }
                for r in batch
            ],
        )

    async def record_transactions(self, club: str, batch: list[Transaction]) -> None:
        self._keep(
            transactions,
            [
                {
                    "club": club,
                    "id": tx.id,
                    "amount": int(tx.amount * 100),
                    "kind": tx.kind,
                    "at": tx.at,
                    "received_at": self.at,
                }
                for tx in batch
            ],
        )


async def _write_v1(url: str) -> None:
    """The history of STEPS in a version 1 database: payloads only, no typed columns."""
    recorder = _Recorder()
    for at, step in STEPS:
        recorder.at = at
        await step(recorder)  # type: ignore[arg-type]
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await MIGRATIONS[1](conn)
            await conn.execute(insert(schema_version).values(version=1))
            for table, rows in recorder.rows:
                await conn.execute(insert(table), rows)
    finally:
        await engine.dispose()


async def test_a_version_1_database_is_migrated_and_reconciles_the_same(
    any_store_url: str,
) -> None:
    await _write_v1(any_store_url)
    async with await CloudStore.open(any_store_url) as store:
        await store.adopt_document(C, A, f"{FN}:204", role="support", by="Anna", reason="bar")
        for shift in (12, 13):
            assert await load_reconciliation(store, C, A, shift) == await _from_everything(
                store, shift
            )
        rec13 = await load_reconciliation(store, C, A, 13)
        async with store._engine.connect() as conn:
            version = (await conn.execute(schema_version.select())).scalar()
    assert version == 2
    assert ("b", "matched", False) in _summary(rec13)  # printed in 13, no paid_at: 13's
    assert len(rec13.rows) == 5


async def test_the_read_ends_its_snapshot_and_sees_a_later_write(any_store_url: str) -> None:
    """The read's own transaction (cloud.store.driver_sql) is over when it returns: the
    pooled connection writes again, and the next read sees what was written."""
    clock = SetClock()
    async with await CloudStore.open(any_store_url, clock=clock) as store:
        await _seed(store, clock)
        before = await load_reconciliation(store, C, A, 12)
        clock.now = IN_12
        await store.record_requests(C, A, [_request("late", 1200)])
        after = await load_reconciliation(store, C, A, 12)
    assert "late" not in {row.id for row in before.rows}
    assert ("late", "crm_only", False) in _summary(after)
    assert after.totals.crm_register_total.total == before.totals.crm_register_total.total + 1200
