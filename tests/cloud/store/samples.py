"""Contract payloads for the store tests."""

from __future__ import annotations

from typing import Any

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult, ShiftReport
from tests.support.payloads import money, receipt

FN = "9289000100346765"


def request(request_id: str, kopecks: int = 15000) -> ReceiptRequest:
    return ReceiptRequest.model_validate(receipt(request_id, kopecks))


def result(
    request_id: str, status: str, fd: int | None = None, kopecks: int = 15000
) -> ReceiptResult:
    body: dict[str, Any] = {"id": request_id, "status": status}
    if status == "done":
        assert fd is not None
        body["fiscal"] = {
            "fn": FN,
            "fd": fd,
            "fp": 4000000000 + fd,
            "shift": 12,
            "number": fd % 1000,
            "issued_at": "2026-01-05T15:52:00+03:00",
            "total": money(kopecks),
            "qr": f"t=20260105T1552&s={money(kopecks)}&fn={FN}&i={fd}&fp={4000000000 + fd}&n=1",
            "doc_id": f"{FN}:{fd}",
            "mark": request_id,
        }
    if status in {"failed", "rejected"}:
        body["error"] = {"code": "link_down", "message": "register link is down"}
    return ReceiptResult.model_validate(body)


def document(fd: int, kopecks: int = 35000, shift: int = 12) -> FiscalDocument:
    return FiscalDocument.model_validate(
        {
            "fn": FN,
            "fd": fd,
            "doc_id": f"{FN}:{fd}",
            "type": "receipt",
            "kind": "sale",
            "total": money(kopecks),
            "shift": shift,
            "issued_at": "2026-01-05T14:02:00+03:00",
        }
    )


def report(kind: str, shift: int = 12, last_fd: int | None = 97600, count: int = 5) -> ShiftReport:
    counters = {"cash": "100.00", "card": "0.00", "prepaid": "0.00", "count": count}
    zero = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0}
    return ShiftReport.model_validate(
        {
            "kind": kind,
            "shift": shift,
            "fn": FN,
            "opened_at": "2026-01-05T09:00:00+03:00",
            "closed_at": "2026-01-06T08:30:00+03:00" if kind == "z" else None,
            "counters": {
                "sales": counters,
                "refunds": zero,
                "cash_in": "0.00",
                "cash_out": "0.00",
                "cash_in_drawer": "100.00",
                "first_fd": 97500,
                "last_fd": last_fd,
            },
        }
    )


def health(boot: int, seq: int, state: str = "online") -> dict[str, Any]:
    return {"state": state, "boot": boot, "seq": seq, "version": "0.1.0"}


def will(boot: int) -> dict[str, Any]:
    return {"state": "offline", "boot": boot}
