"""An ATOL register loses power around a sell task; each receipt gets exactly one FD.

The agent runs as a process against ``firmware-sim serve --atol-web``. The power is cut at the
sell task: before the register ran it (nothing was issued: the agent must print it once, when
the power is back) or after it ran and the document was stored (it was issued: the agent
must record it from the register and never print it again). ATOL's web server keeps such a
task ``blocked`` while the register is dark; the driver gives up waiting after
``[atol] task_timeout_s``, the line stops, and recovery reads the FN back by the mark: the
agent does not take the server's own verdict (the FD counter grew) as proof.
"""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim.atol.request_store import RequestStore
from tests.support.atol_sim import AtolSimProcess
from tests.support.payloads import receipt
from tests.support.processes import Agent, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

WORKER = {"retry_initial_s": 0.1, "retry_max_s": 0.5}
ATOL = {"task_timeout_s": 3.0}


def sell_tasks(sim: AtolSimProcess) -> list[str]:
    """The status of every sell task the web server was ever given, in order (its state file)."""
    store = RequestStore(sim.state_file)
    try:
        return [
            task.status.value
            for request in store.load()
            for task in request.tasks
            if task.type == "sell"
        ]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("after", "expected_event"),
    [(False, "receipt_not_issued_will_print"), (True, "receipt_recovered")],
    ids=["before-it-ran", "after-it-ran"],
)
def test_atol_power_cut_at_the_sell_task_gives_exactly_one_receipt(
    start_atol_sim: Any, start_agent: Any, after: bool, expected_event: str
) -> None:
    """Cut at the sell task (before or after it runs), power back: one receipt, status done."""
    sim: AtolSimProcess = start_atol_sim()
    agent: Agent = start_agent(sim, settings={"worker": WORKER, "atol": ATOL})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    fd_before = sim.state()["last_fd"]
    sim.post("/power/cut", {"on_task": "sell", "after": after})
    assert http("POST", f"{agent.base}/receipts", receipt("cut-1", 12345))[0] == 202
    wait_until(lambda: sim.state()["power"] is False, timeout_s=10, what="the armed power cut")
    # After the task ran its document is in the FN already, before it ran it is not.
    assert sim.state()["last_fd"] == fd_before + (1 if after else 0)
    wait_until(
        lambda: (http("GET", f"{agent.base}/health")[1].get("line") or {}).get("stopped"),
        timeout_s=20,
        what="the line to stop behind the receipt in doubt",
    )
    assert http("GET", f"{agent.base}/receipts/cut-1")[1]["status"] == "printing"
    sim.post("/power/back")

    def final() -> dict[str, Any] | None:
        body = http("GET", f"{agent.base}/receipts/cut-1")[1]
        return body if body["status"] not in {"pending", "printing"} else None

    result = wait_until(final, timeout_s=30, what="the receipt to be final")
    assert result["status"] == "done"
    receipts = [doc for doc in sim.tape() if doc["type"] == "receipt"]
    assert [(doc["total"], doc.get("mark")) for doc in receipts] == [("123.45", "cut-1")]
    assert result["fiscal"]["fd"] == receipts[0]["fd"]
    assert result["fiscal"]["mark"] == "cut-1"
    events = agent.events()
    assert expected_event in events
    if after:
        # Recorded from the register: the FD the sell task made, and no second sell task.
        assert result["fiscal"]["fd"] == fd_before + 1
        assert "receipt_not_issued_will_print" not in events
        assert sell_tasks(sim) == ["ready"], "the register was asked to sell it once only"
    else:
        assert "receipt_recovered" not in events
        # The first task never ran (an error, decided once the power was back); one more ran.
        assert sell_tasks(sim) == ["error", "ready"]
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["line"] == {"stopped": False},
        timeout_s=10,
        what="the line to resume",
    )
