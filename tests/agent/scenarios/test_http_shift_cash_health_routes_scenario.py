"""The local HTTP API's shift, cash and health routes against firmware-sim, through the agent.

``tests/agent/adapters/test_http_routes.py`` covers validation with no register behind it;
the shift and cash scenarios check idempotency and the drawer. Here every ShiftReport the
shift route returns is checked field by field against the FN tape: its kind, the shift
number, the counters after cash and card sales and cash movements, and the FD range.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

FN_SERIAL = "9999078900012345"  # firmware-sim's default
RATES = ("vat22", "vat10", "vat0", "none", "vat22_122", "vat10_110", "vat5", "vat7")
ZERO_VAT = dict.fromkeys((*RATES, "vat5_105", "vat7_107", "vat20", "vat20_120"), "0.00")
ZERO_SALES = {
    "cash": "0.00",
    "card": "0.00",
    "prepaid": "0.00",
    "count": 0,
    "vat": ZERO_VAT,
    "cash_received": "0.00",  # v1.1
    "change": "0.00",  # v1.1
}


def _shift(agent: Any, action: str) -> dict[str, Any]:
    status, report = http("POST", f"{agent.base}/shift", {"action": action})
    assert status == 200, report
    return dict(report)


def _done(agent: Any, request_id: str) -> dict[str, Any]:
    return dict(
        wait_until(
            lambda: (
                (r := http("GET", f"{agent.base}/receipts/{request_id}")[1])["status"] == "done"
                and r
            ),
            timeout_s=20,
            what=f"receipt {request_id}",
        )
    )


def _cash(agent: Any, request_id: str, direction: str, amount: str) -> dict[str, Any]:
    body = {"id": request_id, "direction": direction, "amount": amount}
    status, outcome = http("POST", f"{agent.base}/cash", body, timeout_s=30)
    assert status == 200, outcome
    return dict(outcome)


def _tape_doc(sim: Any, kind: str, shift: int) -> dict[str, Any]:
    return next(doc for doc in sim.tape() if doc["type"] == kind and doc["shift"] == shift)


def _minute(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(second=0)


def test_http_shift_open_x_close_reports_match_the_register(
    start_sim: Any, start_agent: Any
) -> None:
    """open, X and Z each return a ShiftReport of their kind with the shift's number and counters."""
    sim = start_sim()
    agent = start_agent(sim)

    opened = _shift(agent, "open")
    open_doc = _tape_doc(sim, "open_shift", 1)
    assert (opened["kind"], opened["shift"], opened["fn"], opened["auto"]) == (
        "open",
        1,
        FN_SERIAL,
        False,
    )
    assert "closed_at" not in opened
    assert _minute(opened["opened_at"]) == _minute(open_doc["issued_at"])
    assert opened["counters"]["sales"] == ZERO_SALES
    assert (opened["counters"]["first_fd"], opened["counters"]["last_fd"]) == (open_doc["fd"],) * 2

    cash_sale = receipt("sale-cash", 15000, extra_cash=5000)  # 200.00 tendered, 50.00 change
    card_sale = receipt("sale-card", 20000, pay="card")
    for body in (cash_sale, card_sale):
        assert http("POST", f"{agent.base}/receipts", body)[0] == 202
    assert _done(agent, "sale-card")["fiscal"]["shift"] == 1
    assert _done(agent, "sale-cash")["fiscal"]["total"] == "150.00"
    assert _cash(agent, "float", "in", "500.00")["status"] == "done"
    assert _cash(agent, "pickup", "out", "100.00")["status"] == "done"
    refused = _cash(agent, "too-much", "out", "10000.00")
    assert refused["status"] == "rejected"
    assert refused["error"]["code"] == "not_enough_cash"
    last_receipt_fd = sim.state()["last_fd"]

    expected_counters = {
        "sales": {
            "cash": "150.00",
            "card": "200.00",
            "prepaid": "0.00",
            "count": 2,
            # 150.00 and 200.00 at 22 %: 27.05 + 36.07, each receipt's VAT rounded on its own
            "vat": {**ZERO_VAT, "vat22": "63.12"},
            "cash_received": "200.00",  # v1.1: cash net of change + the change given back
            "change": "50.00",
        },
        "refunds": ZERO_SALES,
        "cash_in": "500.00",
        "cash_out": "100.00",
        "cash_in_drawer": "550.00",
        "first_fd": open_doc["fd"],
        "last_fd": last_receipt_fd,
    }
    x = _shift(agent, "x_report")
    assert (x["kind"], x["shift"], x["fn"], x["auto"]) == ("x", 1, FN_SERIAL, False)
    assert x["counters"] == expected_counters
    assert "closed_at" not in x
    after_x = sim.state()
    assert after_x["shift"]["open"], "an X report must not close the shift"
    assert after_x["last_fd"] == last_receipt_fd, "an X report is not a fiscal document"

    z = _shift(agent, "close")
    close_doc = _tape_doc(sim, "close_shift", 1)
    assert (z["kind"], z["shift"], z["fn"], z["auto"]) == ("z", 1, FN_SERIAL, False)
    assert z["counters"] == {**expected_counters, "last_fd": close_doc["fd"]}
    assert _minute(z["closed_at"]) == _minute(close_doc["issued_at"])
    assert _minute(z["opened_at"]) == _minute(open_doc["issued_at"])
    assert close_doc["counters"]["receipts"] == 2
    assert not sim.state()["shift"]["open"]

    reopened = _shift(agent, "open")
    assert (reopened["kind"], reopened["shift"]) == ("open", 2)
    assert reopened["counters"]["sales"] == ZERO_SALES
    assert reopened["counters"]["cash_in"] == "0.00"
    assert reopened["counters"]["cash_in_drawer"] == "550.00", "the drawer outlives the Z"
    assert reopened["counters"]["first_fd"] == _tape_doc(sim, "open_shift", 2)["fd"]


def test_http_health_describes_the_register_behind_the_agent(
    start_sim: Any, start_agent: Any
) -> None:
    """GET /health: the register's model, serial, mode and clock, the shift, the FN, the queues."""
    sim = start_sim()
    agent = start_agent(sim)
    _shift(agent, "open")
    assert http("POST", f"{agent.base}/receipts", receipt("h-1", 9900))[0] == 202
    _done(agent, "h-1")
    status, health = http("GET", f"{agent.base}/health")
    assert status == 200
    assert health["state"] == "online"
    register = health["register"]
    assert (register["link"], register["model"], register["serial"]) == (
        "up",
        "ШТРИХ-М-01Ф",
        "12345678",
    )
    assert register["mode"] == sim.state()["mode"] == 2
    assert abs(register["clock_skew_s"]) < 5
    assert (
        datetime.fromisoformat(register["clock"]).utcoffset()
        == datetime.fromisoformat(sim.state()["clock"]).utcoffset()
    )
    assert health["shift"]["open"]
    assert health["shift"]["number"] == 1
    assert 0 <= health["shift"]["age_s"] < 600
    assert health["fn"]["serial"] == FN_SERIAL
    assert health["outbox"] == {"pending": 0, "failed": 0, "unknown": 0}
    # No broker in this test: the open shift's report and h-1's result wait in the sync queue.
    assert health["sync"]["pending"] == 2
    assert 0 <= health["sync"]["oldest_pending_age_s"] < 600
    assert health["uptime_s"] > 0
