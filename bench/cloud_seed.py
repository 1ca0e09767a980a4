"""Payloads for the cloud benchmark: done results for many agents, and one large stored shift.

:func:`result_payloads` builds realistic ``evt/receipt`` bodies (a done ReceiptResult with its
fiscal fields, made and checked by :mod:`agent.contract`) spread over many clubs and desks.
:func:`seed_shift` writes a whole shift of one agent into a :class:`CloudStore` through its
``record_*`` batch methods: the open and Z reports, N CRM requests, their results (a few left
out), a few documents printed by hand and the club's app transactions, with the Z's counters
equal to what was printed, so every reconciled row is expected ``matched`` or explained.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.store import CloudStore, Transaction
from tests.support.payloads import money, receipt

__all__ = ["SeededShift", "Topic", "result_payloads", "seed_shift"]

FN = "9289000100346765"
OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=3)))
SHIFT = 12
SEED_BATCH = 5_000

Topic = str


def _done(request_id: str, fd: int, kopecks: int, issued_at: datetime) -> ReceiptResult:
    fp = 1_000_000_000 + fd
    return ReceiptResult.model_validate(
        {
            "id": request_id,
            "status": "done",
            "fiscal": {
                "fn": FN,
                "fd": fd,
                "fp": fp,
                "shift": SHIFT,
                "number": fd % 10_000,
                "issued_at": issued_at.isoformat(),
                "total": money(kopecks),
                "qr": (f"t={issued_at:%Y%m%dT%H%M}&s={money(kopecks)}&fn={FN}&i={fd}&fp={fp}&n=1"),
                "doc_id": f"{FN}:{fd}",
                "mark": request_id,
            },
        }
    )


def result_payloads(count: int, clubs: int, desks: int) -> list[tuple[Topic, bytes]]:
    """``count`` done results as (topic, JSON), round-robin over ``clubs`` x ``desks`` agents."""
    agents = [(f"club-{c}", f"desk-{d}") for c in range(clubs) for d in range(1, desks + 1)]
    out = []
    for i, (club, desk) in zip(range(count), itertools.cycle(agents), strict=False):
        result = _done(f"bench-{i:07d}", 1000 + i, 10_000 + (i * 7919) % 90_001, OPENED)
        topic = f"fiscal/v1/{club}/{desk}/evt/receipt"
        out.append((topic, result.model_dump_json(exclude_none=True).encode()))
    return out


@dataclass(frozen=True)
class SeededShift:
    """What :func:`seed_shift` stored."""

    club: str
    agent: str
    shift: int
    requests: int
    results: int
    documents: int
    transactions: int


class _ShiftClock:
    """The store's clock: each batch is received a little later within the shift."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self._now = start
        self._step = step

    def __call__(self) -> datetime:
        self._now += self._step
        return self._now


def shift_clock(rows: int) -> _ShiftClock:
    """A clock for ``CloudStore.open(..., clock=)`` that stays inside the seeded shift."""
    return _ShiftClock(OPENED, timedelta(hours=22) / (rows // SEED_BATCH * 3 + 20))


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), SEED_BATCH):
        yield items[start : start + SEED_BATCH]


def _report(kind: str, cash: int, card: int, count: int, last_fd: int) -> ShiftReport:
    zero = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}
    return ShiftReport.model_validate(
        {
            "kind": kind,
            "shift": SHIFT,
            "fn": FN,
            "opened_at": OPENED.isoformat(),
            "closed_at": (OPENED + timedelta(hours=23)).isoformat() if kind == "z" else None,
            "counters": {
                "sales": {
                    "cash": money(cash),
                    "card": money(card),
                    "prepaid": "0.00",
                    "count": count,
                },
                "refunds": zero,
                "cash_in": "0.00",
                "cash_out": "0.00",
                "cash_in_drawer": money(cash),
                "first_fd": 1000,
                "last_fd": last_fd,
            },
        }
    )


async def seed_shift(store: CloudStore, rows: int) -> SeededShift:
    """Store one agent's closed shift of ``rows`` CRM requests (club-1/desk-1, shift 12)."""
    club, agent = "club-1", "desk-1"
    requests: list[ReceiptRequest] = []
    results: list[ReceiptResult] = []
    cash = card = printed = 0
    step = timedelta(hours=22) / (rows + 1)
    for i in range(rows):
        kopecks = 10_000 + (i * 7919) % 90_001
        pay = "card" if i % 2 else "cash"
        extra = 5_000 if i % 3 == 2 and pay == "cash" else 0
        request_id = f"crm-{i:08d}"
        requests.append(
            ReceiptRequest.model_validate(receipt(request_id, kopecks, pay=pay, extra_cash=extra))
        )
        if i % 1000 == 999:  # never printed: crm_only
            continue
        results.append(_done(request_id, 1000 + i, kopecks, OPENED + step * (i + 1)))
        printed += 1
        if pay == "cash":
            cash += kopecks
        else:
            card += kopecks
    documents = []
    for j in range(rows // 1000):  # printed by hand: register_only
        fd = 10_000_000 + j
        documents.append(
            FiscalDocument.model_validate(
                {
                    "fn": FN,
                    "fd": fd,
                    "doc_id": f"{FN}:{fd}",
                    "type": "receipt",
                    "kind": "sale",
                    "total": "50.00",
                    "shift": SHIFT,
                    "issued_at": (OPENED + timedelta(minutes=j + 1)).isoformat(),
                }
            )
        )
        cash += 5_000
        printed += 1
    transactions = [
        Transaction(
            id=f"app-{j}",
            amount=Decimal("300.00"),
            kind="sale",
            at=OPENED + timedelta(minutes=j + 1),
        )
        for j in range(rows // 1000)
    ]
    await store.record_shift_reports(club, agent, [_report("open", 0, 0, 0, 999)])
    for chunk in _chunks(requests):
        await store.record_requests(club, agent, chunk)
    for chunk in _chunks(results):
        await store.record_results(club, agent, chunk)
    await store.record_documents(club, agent, documents)
    await store.record_transactions(club, transactions)
    last_fd = 1000 + rows
    await store.record_shift_reports(club, agent, [_report("z", cash, card, printed, last_fd)])
    return SeededShift(
        club=club,
        agent=agent,
        shift=SHIFT,
        requests=len(requests),
        results=len(results),
        documents=len(documents),
        transactions=len(transactions),
    )
