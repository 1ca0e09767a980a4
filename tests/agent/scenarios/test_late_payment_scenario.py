"""A payment taken in yesterday's shift and printed today is a correction receipt.

The real agent drives firmware-sim on a pseudo-terminal. Yesterday: a shift opens for one
ordinary receipt, the CRM takes a second payment in it but does not send it, the shift is
closed. Today (the register's clock a day on): the CRM sends the second payment with its
``paid_at``. With ``[receipts] late = "other_shift"`` (the default) the FN tape holds a
correction receipt (FD type 31) with 1173 (self-initiated) and 1174/1178 = the payment's
date, the result says ``fiscal.type = "correction"``, and the close of today's shift counts
it among the corrections (tag 1133), yesterday's among none. With ``late = "never"`` the
same payment is an ordinary receipt of today's shift.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.payloads import receipt
from tests.support.processes import Agent, Simulator, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(120)]

MSK = ZoneInfo("Europe/Moscow")
COFFEE = 15000
DAY_S = 86400


def _row(agent: Agent, request_id: str) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/receipts/{request_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _done(agent: Agent, request_id: str) -> dict[str, Any]:
    wait_until(
        lambda: _row(agent, request_id)["status"] not in {"pending", "printing"},
        timeout_s=30,
        what=f"{request_id} final",
    )
    row = _row(agent, request_id)
    assert row["status"] == "done", row
    return row


def _shift(agent: Agent, action: str) -> dict[str, Any]:
    status, report = http("POST", f"{agent.base}/shift", {"action": action}, timeout_s=30)
    assert status == 200, report
    return report  # type: ignore[no-any-return]


def _yesterday_then_today(
    start_sim: Any, start_agent: Any, *, late: str
) -> tuple[Simulator, Agent, datetime]:
    """Yesterday's shift with one receipt and a payment kept back; the clock a day on."""
    sim: Simulator = start_sim()
    agent: Agent = start_agent(sim, settings={"receipts": {"late": late}})
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-yesterday", COFFEE))[0] == 202
    _done(agent, "coffee-yesterday")
    paid_at = datetime.now(UTC).replace(microsecond=0)  # in yesterday's shift, still open
    _shift(agent, "close")
    sim.post("/clock/advance", {"seconds": DAY_S})  # the register's clock: a day later
    body = receipt("coffee-late", COFFEE, pay="card") | {"paid_at": paid_at.isoformat()}
    assert http("POST", f"{agent.base}/receipts", body)[0] == 202
    return sim, agent, paid_at


def _documents(sim: Simulator) -> dict[str, list[dict[str, Any]]]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for doc in sim.tape():
        by_type.setdefault(doc["type"], []).append(doc)
    return by_type


def test_yesterdays_payment_printed_today_is_a_correction(start_sim: Any, start_agent: Any) -> None:
    """other_shift: FD type 31 with 1173 = 0 and 1178 = the payment's date; Z counts it."""
    sim, agent, paid_at = _yesterday_then_today(start_sim, start_agent, late="other_shift")
    late = _done(agent, "coffee-late")
    assert late["fiscal"]["type"] == "correction"
    assert late["fiscal"]["mark"] == "coffee-late"
    on_time = _row(agent, "coffee-yesterday")
    assert on_time["fiscal"]["type"] == "receipt"

    docs = _documents(sim)
    (correction,) = docs["correction"]
    paid_on = paid_at.astimezone(MSK).date()
    assert correction["fd"] == late["fiscal"]["fd"]
    assert correction["mark"] == "coffee-late"
    assert correction["settled_on"] == paid_on.isoformat()
    assert correction["tags"]["1173"] == 0
    assert correction["tags"]["1174"] == {"1178": paid_on.isoformat()}
    assert correction["kind"] == "sale"
    assert correction["total"] == "150.00"
    assert correction["payments"]["card"] == "150.00"
    assert [item["vat"] for item in correction["items"]] == ["vat22"]
    assert correction["vat"] == {"vat22": "27.05"}
    printed_on = datetime.fromisoformat(correction["issued_at"]).date()
    assert printed_on == paid_on + timedelta(days=1), "printed the day after the payment"
    (receipt_doc,) = docs["receipt"]
    assert receipt_doc["mark"] == "coffee-yesterday"
    assert correction["shift"] == receipt_doc["shift"] + 1

    today = _shift(agent, "close")
    closes = _documents(sim)["close_shift"]
    assert [c["shift"] for c in closes] == [receipt_doc["shift"], correction["shift"]]
    yesterday_z, today_z = (c["counters"] for c in closes)
    assert yesterday_z["sales"]["count"] == 1
    assert yesterday_z["sales"]["cash"] == "150.00"
    assert yesterday_z["corrections"]["count"] == 0
    assert today_z["sales"]["count"] == 0, "a correction is not counted among the receipts"
    assert today_z["corrections"]["count"] == 1
    assert today_z["corrections"]["sales"]["card"] == "150.00"
    assert today_z["corrections"]["sales"]["count"] == 1
    assert today["shift"] == correction["shift"]


def test_with_late_never_the_same_payment_is_an_ordinary_receipt(
    start_sim: Any, start_agent: Any
) -> None:
    """late = "never": today's shift gets an ordinary receipt; no correction on the tape."""
    sim, agent, _paid_at = _yesterday_then_today(start_sim, start_agent, late="never")
    late = _done(agent, "coffee-late")
    assert late["fiscal"]["type"] == "receipt"
    docs = _documents(sim)
    assert "correction" not in docs
    marks = [doc["mark"] for doc in docs["receipt"]]
    assert marks == ["coffee-yesterday", "coffee-late"]
    assert docs["receipt"][1]["shift"] == docs["receipt"][0]["shift"] + 1
    assert "1173" not in docs["receipt"][1]["tags"]
    _shift(agent, "close")
    today_z = _documents(sim)["close_shift"][-1]["counters"]
    assert today_z["sales"]["count"] == 1
    assert today_z["corrections"]["count"] == 0
