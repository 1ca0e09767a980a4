"""Paper runs out: receipts wait, health says why, everything prints once paper is back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]


def test_receipts_wait_for_paper_and_all_print_when_it_is_back(
    start_sim: Any, start_agent: Any
) -> None:
    """Five receipts accepted during paper-out print exactly once after paper is loaded."""
    sim = start_sim()
    agent = start_agent(sim, settings={"worker": {"retry_initial_s": 0.1, "retry_max_s": 0.5}})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    sim.post("/paper/out")
    ids = [f"paper-{i}" for i in range(5)]
    for i, request_id in enumerate(ids):
        assert http("POST", f"{agent.base}/receipts", receipt(request_id, 10000 + i))[0] == 202

    def waiting_for_paper() -> dict[str, Any] | None:
        health = http("GET", f"{agent.base}/health")[1]
        is_waiting = (
            health["register"].get("error") == "paper_out" and health["outbox"]["pending"] == 5
        )
        return health if is_waiting else None

    health = wait_until(waiting_for_paper, timeout_s=30, what="health to report paper_out")
    assert health["state"] == "degraded"
    assert health["last_error"]["code"] == "paper_out"
    for request_id in ids:
        assert http("GET", f"{agent.base}/receipts/{request_id}")[1]["status"] in {
            "pending",
            "printing",
        }
    assert [doc["type"] for doc in sim.tape()].count("receipt") == 0

    sim.post("/paper/back")

    def all_done() -> bool:
        return all(http("GET", f"{agent.base}/receipts/{r}")[1]["status"] == "done" for r in ids)

    wait_until(all_done, timeout_s=30, what="every receipt to print")
    receipts = [doc for doc in sim.tape() if doc["type"] == "receipt"]
    assert len(receipts) == 5
    assert sorted(doc["total"] for doc in receipts) == [f"{100 + i / 100:.2f}" for i in range(5)]
    health = wait_until(
        lambda: (h := http("GET", f"{agent.base}/health")[1])["state"] == "online" and h,
        timeout_s=40,
        what="health back to online",
    )
    assert "error" not in health["register"]


def test_every_log_line_about_a_receipt_carries_its_id(start_sim: Any, start_agent: Any) -> None:
    """The worker's and the driver's lines about a receipt all name its request id."""
    sim = start_sim()
    agent = start_agent(sim)
    assert http("POST", f"{agent.base}/receipts", receipt("logged-1", 4200))[0] == 202
    wait_until(
        lambda: http("GET", f"{agent.base}/receipts/logged-1")[1]["status"] == "done",
        timeout_s=20,
        what="the receipt",
    )
    lines = agent.log_records()
    about_receipt = [
        line
        for line in lines
        if line.get("event") in {"accepted", "printing", "receipt issued", "receipt_done"}
    ]
    assert {line["event"] for line in about_receipt} == {
        "accepted",
        "printing",
        "receipt issued",
        "receipt_done",
    }
    assert all(line.get("request_id") == "logged-1" for line in about_receipt), about_receipt
