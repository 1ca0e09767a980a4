"""Two coffees of the same price: a refused receipt is never paid for with the next one's FD.

The flaw this pins: a receipt the register refused after it was sent, its attempts used up,
stayed ``printing`` while the next payments of the same total were printed; at the next start
recovery took "a receipt of the same kind and total after the intent" as its own. One payment
had no receipt and the books said it had. Now the receipt carries its id into the FN (the
mark), the line stops behind the doubtful row, and recovery decides by the mark alone.

Both tests run on each protocol's simulator: on Shtrih the close (FF45) is refused with 0x55
and the power cut right after it ran; on ATOL the sell task is refused with 55 (the printer
busy, which the worker retries) and the power cut right after the task ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import Agent, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(120)]

COFFEE = 15000
ATTEMPTS = 2
WORKER = {"retry_attempts": ATTEMPTS, "retry_initial_s": 0.05, "retry_max_s": 0.2}


@dataclass(frozen=True)
class Faults:
    """One protocol's faults on the step that signs a receipt."""

    protocol: str
    refuse: dict[str, Any]  # /faults/refuse: a refusal the worker retries, before it runs
    cut_after: dict[str, Any]  # /power/cut: right after the step ran
    settings: dict[str, Any]  # the agent's protocol section


FAULTS = [
    Faults(
        "shtrih",
        {"on_command": "FF45", "code": 0x55, "count": ATTEMPTS, "after": False},  # receipt closed
        {"on_command": "FF45", "after": True},
        {},
    ),
    Faults(
        "atol",
        {"on_task": "sell", "code": 55, "count": ATTEMPTS, "after": False},  # printer busy
        {"on_task": "sell", "after": True},
        # A task the server keeps blocked (its register unpowered) is given up on after 3 s, so
        # the line stops behind it instead of the worker waiting the default two minutes.
        {"atol": {"task_timeout_s": 3.0}},
    ),
]


@pytest.fixture(params=FAULTS, ids=lambda faults: faults.protocol)
def faults(request: pytest.FixtureRequest) -> Faults:
    """The protocol this run drives, with its faults."""
    return request.param  # type: ignore[no-any-return]


def _row(agent: Agent, request_id: str) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/receipts/{request_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _receipts_by_mark(sim: Any) -> dict[str, list[int]]:
    by_mark: dict[str, list[int]] = {}
    for doc in sim.tape():
        if doc["type"] == "receipt":
            by_mark.setdefault(doc.get("mark") or "", []).append(doc["fd"])
    return by_mark


def test_same_total_refused_receipt_never_takes_another_payments_fd(
    faults: Faults, start_register: Any, start_agent: Any
) -> None:
    """A refused coffee, another of the same price, a restart: two FDs, one for each id.

    On the code before the mark, the first coffee was recorded at the restart as issued with
    the second coffee's FD.
    """
    sim = start_register(faults.protocol)
    agent: Agent = start_agent(sim, settings={"worker": WORKER, **faults.settings})
    wait_until(lambda: _health(agent)["register"]["link"] == "up", timeout_s=15, what="link up")
    # The receipt is refused as often as the worker attempts it: its attempts run out.
    sim.post("/faults/refuse", faults.refuse)
    assert http("POST", f"{agent.base}/receipts", receipt("coffee-a", COFFEE))[0] == 202
    wait_until(
        lambda: not sim.state()["faults"]["refuse"],
        timeout_s=20,
        what="every refusal to be used",
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
    by_mark = _receipts_by_mark(sim)
    for request_id in ids:
        assert by_mark.get(request_id) == [results[request_id]["fiscal"]["fd"]], by_mark
        assert results[request_id]["fiscal"]["mark"] == request_id
    assert "" not in by_mark, "a receipt without a mark was printed"
    events = agent.events()
    assert events.count("line_stopped") >= 1
    assert "line_resumed" in events
    assert _health(agent)["line"] == {"stopped": False}


def _health(agent: Agent) -> dict[str, Any]:
    status, body = http("GET", f"{agent.base}/health")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def test_same_total_line_stops_while_the_register_cannot_answer(
    faults: Faults, start_register: Any, start_agent: Any
) -> None:
    """Power lost right after the receipt ran: nothing else prints, health says why, then on."""
    sim = start_register(faults.protocol)
    agent: Agent = start_agent(sim, settings={"worker": WORKER, **faults.settings})
    wait_until(lambda: _health(agent)["register"]["link"] == "up", timeout_s=15, what="link up")
    sim.post("/power/cut", faults.cut_after)
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
    by_mark = _receipts_by_mark(sim)
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
