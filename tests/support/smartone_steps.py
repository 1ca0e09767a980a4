"""Steps the SmartOne scenarios share: a receipt the simulator takes, results, health, marks.

Used by tests/agent/scenarios/test_smartone_*_scenario.py. Receipts carry ``vat0`` lines: the simulator allows the tax percents 18 % and 0 %.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Final

from tests.support.payloads import money
from tests.support.processes import Agent, http, wait_until
from tests.support.smartone_sim import SmartOneSimProcess

__all__ = [
    "FAST_SMARTONE",
    "FAST_WORKER",
    "WRONG_MERCHANT_ID",
    "final",
    "health",
    "marked",
    "sale",
    "shift_reports",
    "status",
]

FAST_WORKER: Final = {"retry_initial_s": 0.1, "retry_max_s": 0.5, "idle_check_s": 0.5}
"""Short backoff and idle checks: a scenario runs in seconds, not minutes."""
FAST_SMARTONE: Final = {
    "poll_interval_s": 0.1,
    "read_timeout_s": 3,
    "sale_timeout_s": 3,
    "processing_timeout_s": 3,
}
"""Short timeouts: a dark cashbox is noticed in seconds."""
WRONG_MERCHANT_ID: Final = "fedcba9876543210fedcba9876543210"
"""Well-formed (32 hex characters), but not the simulator's id: every signature is refused."""
FINAL: Final = frozenset({"done", "rejected", "failed", "unknown"})


def sale(request_id: str, qapik: int, *, vat: str = "vat0", pay: str = "cash") -> dict[str, Any]:
    """A goods sale of one line at ``qapik``, paid exactly with ``pay`` (cash or card)."""
    return {
        "id": request_id,
        "kind": "sale",
        "category": "goods",
        "items": [{"name": "Coffee", "qty": "1", "price": money(qapik), "vat": vat}],
        "payments": {pay: money(qapik)},
    }


def status(agent: Agent, request_id: str) -> dict[str, Any]:
    """``GET /receipts/{id}`` (200 expected)."""
    code, body = http("GET", f"{agent.base}/receipts/{request_id}")
    assert code == 200, (request_id, code, body)
    return dict(body)


def final(agent: Agent, request_id: str, *, timeout_s: float = 30) -> dict[str, Any]:
    """Wait for the receipt's final result."""

    def result() -> dict[str, Any] | None:
        body = status(agent, request_id)
        return body if body["status"] in FINAL else None

    return dict(wait_until(result, timeout_s=timeout_s, what=f"a final result for {request_id}"))


def health(agent: Agent) -> dict[str, Any]:
    """``GET /health`` (200 expected)."""
    code, body = http("GET", f"{agent.base}/health")
    assert code == 200, (code, body)
    return dict(body)


def marked(sim: SmartOneSimProcess, mark: str) -> list[dict[str, Any]]:
    """The receipts on the tape under ``mark`` (the request id the agent sent)."""
    return [doc for doc in sim.tape() if doc["type"] == "receipt" and doc.get("mark") == mark]


def shift_reports(agent: Agent) -> list[dict[str, Any]]:
    """The shift reports the agent queued for ``evt/shift`` (no broker: they wait on disk)."""
    path = agent.workdir / "agent.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT payload FROM sync_queue WHERE topic = 'shift' ORDER BY seq"
        ).fetchall()
    return [json.loads(payload) for (payload,) in rows]
