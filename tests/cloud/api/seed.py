"""A small shift seeded through the store's record_* methods with contract models.

Shift 12 of FN 9289000100346765 opened 2026-01-05 09:00 +03:00 and closed (Z) 2026-01-06
08:30. The store's clock stands at 15:00 +03:00 on the 5th, inside the shift.

| id   | what                               | register             | row           |
|------|------------------------------------|----------------------|---------------|
| r1   | sale 150.00 cash (200.00 tendered) | fd 101               | matched       |
| r2   | sale 99.99 card                    | fd 102               | matched       |
| r3   | refund 10.01 cash                  | fd 103               | matched       |
| r4   | sale 50.50 cash                    | failed               | crm_only      |
| doc  | sale 350.00 cash at the register   | fd 104 (evt/document)| register_only |
| app1 | app payment 200.00                 | -                    | grand total   |

Z counters: sales cash 500.00 card 99.99, refunds cash 10.01.
crm_register_total: cash 190.49 card 99.99 total 290.48
z_register_total:   cash 489.99 card 99.99 total 589.98
difference:         cash -299.50 card 0.00 total -299.50
crm_grand_total:    cash 190.49 card 299.99 total 490.48
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.store import CloudStore, Transaction
from tests.support.payloads import money, receipt

FN = "9289000100346765"
CLUB = "club-1"
AGENT = "desk-1"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def request(
    request_id: str, kopecks: int, *, pay: str = "cash", kind: str = "sale", extra_cash: int = 0
) -> ReceiptRequest:
    body = receipt(request_id, kopecks, pay=pay, extra_cash=extra_cash)
    body["kind"] = kind
    return ReceiptRequest.model_validate(body)


def done(request_id: str, fd: int, kopecks: int) -> ReceiptResult:
    return ReceiptResult.model_validate(
        {
            "id": request_id,
            "status": "done",
            "fiscal": {
                "fn": FN,
                "fd": fd,
                "fp": 4000000000 + fd,
                "shift": 12,
                "number": fd % 1000,
                "issued_at": "2026-01-05T15:00:30+03:00",
                "total": money(kopecks),
                "qr": f"t=20260105T1500&s={money(kopecks)}&fn={FN}&i={fd}&fp={4000000000 + fd}&n=1",
                "doc_id": f"{FN}:{fd}",
                "mark": request_id,
            },
        }
    )


def failed(request_id: str) -> ReceiptResult:
    return ReceiptResult.model_validate(
        {"id": request_id, "status": "failed", "error": {"code": "link_down", "message": "down"}}
    )


def document(fd: int, kopecks: int) -> FiscalDocument:
    return FiscalDocument.model_validate(
        {
            "fn": FN,
            "fd": fd,
            "doc_id": f"{FN}:{fd}",
            "type": "receipt",
            "kind": "sale",
            "total": money(kopecks),
            "shift": 12,
            "issued_at": "2026-01-05T16:00:00+03:00",
        }
    )


def report(kind: str, sales: dict[str, str], refunds: dict[str, str]) -> ShiftReport:
    body: dict[str, Any] = {
        "kind": kind,
        "shift": 12,
        "fn": FN,
        "opened_at": "2026-01-05T09:00:00+03:00",
        "closed_at": "2026-01-06T08:30:00+03:00" if kind == "z" else None,
        "counters": {
            "sales": sales,
            "refunds": refunds,
            "cash_in": "1000.00",
            "cash_out": "0.00",
            "cash_in_drawer": "1489.99",
            "first_fd": 100,
            "last_fd": 105,
        },
    }
    return ShiftReport.model_validate(body)


Z_SALES = {"cash": "500.00", "card": "99.99", "prepaid": "0.00", "count": 3}
Z_REFUNDS = {"cash": "10.01", "card": "0.00", "prepaid": "0.00", "count": 1}
ZERO = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}


async def seed_small_shift(store: CloudStore, *, closed: bool = True) -> None:
    await store.record_shift_reports(CLUB, AGENT, [report("open", ZERO, ZERO)])
    await store.record_requests(
        CLUB,
        AGENT,
        [
            request("r1", 15000, extra_cash=5000),
            request("r2", 9999, pay="card"),
            request("r3", 1001, kind="refund"),
            request("r4", 5050),
        ],
    )
    await store.record_results(
        CLUB,
        AGENT,
        [done("r1", 101, 15000), done("r2", 102, 9999), done("r3", 103, 1001), failed("r4")],
    )
    await store.record_documents(CLUB, AGENT, [document(104, 35000)])
    await store.record_transactions(
        CLUB,
        [
            Transaction(
                id="app1",
                amount=Decimal("200.00"),
                kind="sale",
                at=datetime(2026, 1, 5, 13, 0, tzinfo=UTC),
            )
        ],
    )
    if closed:
        await store.record_shift_reports(CLUB, AGENT, [report("z", Z_SALES, Z_REFUNDS)])
