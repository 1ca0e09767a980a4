"""Two coffees of the same price through an ATOL register (agent + ``firmware-sim --atol-web``).

The Shtrih scenario (test_same_total_scenario.py) through the ATOL path: the sell task is
refused with an ATOL code the worker retries (55, the printer busy) until the row's attempts
are used up, and the power is cut right after a sell task ran. Only the mark (the request id
the receipt carries into the FN) tells two receipts of the same total apart: the tape holds
exactly one receipt per id, and each row's FD is its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.atol_sim import AtolSimProcess
from tests.support.payloads import receipt
from tests.support.processes import Agent, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(120)]

COFFEE = 15000
PRINTER_BUSY = 55  # ATOL: the printer is busy, a refusal the worker retries (RETRY)
ATTEMPTS = 2
WORKER = {"retry_attempts": ATTEMPTS, "retry_initial_s": 0.05, "retry_max_s": 0.2}
# A task the server keeps blocked (its register unpowered) is given up on after 3 s, so the
# line stops behind it instead of the worker waiting the default two minutes.
ATOL = {"task_timeout_s": 3.0}


def _row(agent: Agent, request_id: str) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/receipts/{request_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _health(agent: Agent) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/health")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def receipts_by_mark(sim: AtolSimProcess) -> dict[str, list[int]]:
    """The FN's receipts on the tape, by mark: {request id: [FD, ...]}."""
    by_mark: dict[str, list[int]] = {}
    for doc in sim.tape():
        if doc["type"] == "receipt":
            by_mark.setdefault(doc.get("mark") or "", []).append(doc["fd"])
    return by_mark


def test_atol_same_total_refused_receipt_never_takes_another_payments_fd(
    start_atol_sim: Any, start_agent: Any
) -> None:
    """A sell task refused until its attempts are used up, another coffee, a restart."""
    sim: AtolSimProcess = start_atol_sim()
    agent: Agent = start_agent(sim, settings={"worker": WORKER, "atol": ATOL})
    wait_until(lambda: _health(agent)["register"]["link"] == "up", timeout_s=15, what="link up")
    sim.post(
        "/faults/refuse",
        {"on_task": "sell", "code": PRINTER_BUSY, "count": ATTEMPTS, "after": False},
    )
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-a", COFFEE))[0] == 202
    wait_until(
        lambda: not sim.state()["faults"]["refuse"],
        timeout_s=20,
        what="every refusal of the sell task to be used",
    )
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-b", COFFEE))[0] == 202
    ids = ("coffee-a", "coffee-b")
    wait_until(
        lambda: _row(agent, "coffee-b")["status"] == "done",
        timeout_s=40,
        what="the second coffee done",
    )
    agent.stop()
    agent.start()
    wait_until(
        lambda: all(_row(agent, i)["status"] not in {"pending", "printing"} for i in ids),
        timeout_s=30,
        what="every coffee final after the restart",
    )
    results = {i: _row(agent, i) for i in ids}
    fds = [results[i]["fiscal"]["fd"] for i in ids if results[i]["status"] == "done"]
    assert len(set(fds)) == len(fds), f"an FD belongs to two ids: {results}"
    assert {r["status"] for r in results.values()} == {"done"}, results
    by_mark = receipts_by_mark(sim)
    for request_id in ids:
        assert by_mark.get(request_id) == [results[request_id]["fiscal"]["fd"]], by_mark
        assert results[request_id]["fiscal"]["mark"] == request_id
    assert "" not in by_mark, "a receipt without a mark was printed"
    events = agent.events()
    assert events.count("line_stopped") >= 1
    assert "line_resumed" in events
    assert _health(agent)["line"] == {"stopped": False}


def test_atol_same_total_line_stops_while_the_register_cannot_answer(
    start_atol_sim: Any, start_agent: Any
) -> None:
    """Power lost right after the sell task ran: nothing else prints, health says why, then on."""
    sim: AtolSimProcess = start_atol_sim()
    agent: Agent = start_agent(sim, settings={"worker": WORKER, "atol": ATOL})
    wait_until(lambda: _health(agent)["register"]["link"] == "up", timeout_s=15, what="link up")
    sim.post("/power/cut", {"on_task": "sell", "after": True})
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-a", COFFEE))[0] == 202
    line = wait_until(
        lambda: (_health(agent).get("line") or {}).get("stopped") and _health(agent)["line"],
        timeout_s=20,
        what="the line to stop behind coffee-a",
    )
    assert line["row"] == "coffee-a"
    assert line["since"]
    assert line["reason"]
    assert _health(agent)["state"] == "degraded"
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-b", COFFEE))[0] == 202
    status, body = http("POST", f"{agent.base}/shift", {"action": "x_report"})
    assert (status, body["error"]["code"]) == (503, "line_stopped")
    assert _row(agent, "coffee-b")["status"] == "pending"
    sim.post("/power/back")
    wait_until(
        lambda: all(_row(agent, i)["status"] == "done" for i in ("coffee-a", "coffee-b")),
        timeout_s=30,
        what="both coffees done once the register answers",
    )
    by_mark = receipts_by_mark(sim)
    a, b = _row(agent, "coffee-a"), _row(agent, "coffee-b")
    assert by_mark["coffee-a"] == [a["fiscal"]["fd"]]
    assert by_mark["coffee-b"] == [b["fiscal"]["fd"]]
    assert a["fiscal"]["fd"] < b["fiscal"]["fd"]
    assert "receipt_recovered" in agent.events()  # proven issued by its mark, not printed again
    wait_until(
        lambda: _health(agent)["line"] == {"stopped": False},
        timeout_s=10,
        what="the line to resume",
    )
