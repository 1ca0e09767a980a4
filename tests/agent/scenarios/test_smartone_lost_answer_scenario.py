"""A SmartOne cashbox loses power around ``/sale``; each receipt is on the tape exactly once.

The agent (``fiscal-agent run``) against ``firmware-sim serve --smartone``. The power is cut at
``/sale``: after the cashbox stored the document (the reply is dropped: the agent does not know
the outcome) or before it ran (nothing was issued). Once the power is back, recovery asks the
cashbox by the request's key (``/check_status {documentExtID}``): a stored document is recorded
as it is (``doc_id`` = its ``fiscalID``) and never sold again; an unknown one is printed once.
An agent SIGKILLed during the outage recovers the same way after its restart.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.processes import Agent, http, wait_until
from tests.support.smartone_sim import SmartOneSimProcess
from tests.support.smartone_steps import FAST_SMARTONE, FAST_WORKER, final, health, marked, sale

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

SETTINGS = {"worker": FAST_WORKER, "smartone": FAST_SMARTONE}


def _cut_at_sale(sim: SmartOneSimProcess, agent: Agent, request_id: str, *, after: bool) -> None:
    """Arm the cut at ``/sale``, submit the receipt, wait until the line stops behind it."""
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    sim.post("/power/cut", {"on_task": "sale", "after": after})
    assert http("POST", f"{agent.base}/receipts", sale(request_id, 12345))[0] == 202
    wait_until(lambda: sim.state()["power"] is False, timeout_s=10, what="the armed power cut")
    assert len(marked(sim, request_id)) == (1 if after else 0)
    wait_until(
        lambda: health(agent)["line"].get("stopped"),
        timeout_s=20,
        what="the line to stop behind the receipt in doubt",
    )


def _line_resumes(agent: Agent) -> None:
    wait_until(
        lambda: health(agent)["line"] == {"stopped": False},
        timeout_s=10,
        what="the line to resume",
    )


@pytest.mark.parametrize("kill_agent", [False, True], ids=["agent-runs", "agent-sigkilled"])
def test_power_cut_after_sale_ran_records_the_stored_document(
    start_smartone_sim: Any, start_agent: Any, kill_agent: bool
) -> None:
    """Stored, reply lost: recorded from /check_status (the tape's fiscalID), never sold twice."""
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_agent(sim, settings=SETTINGS)
    _cut_at_sale(sim, agent, "lost-1", after=True)
    assert http("GET", f"{agent.base}/receipts/lost-1")[1]["status"] in {"pending", "printing"}
    if kill_agent:
        agent.kill()
        agent.start()
    sim.post("/power/back")

    result = final(agent, "lost-1")
    assert result["status"] == "done", result
    on_tape = marked(sim, "lost-1")
    assert len(on_tape) == 1, on_tape
    assert result["fiscal"]["doc_id"] == on_tape[0]["doc_id"]
    assert result["fiscal"]["mark"] == "lost-1"
    assert result["fiscal"]["total"] == on_tape[0]["total"] == "123.45"
    assert result["fiscal"]["shift"] == on_tape[0]["shift"] > 0  # recovered in its own shift
    events = agent.events()
    assert "receipt_recovered" in events
    assert "receipt_not_issued_will_print" not in events
    _line_resumes(agent)
    # The line goes on: the next receipt prints once, in the same shift.
    assert http("POST", f"{agent.base}/receipts", sale("lost-2", 500))[0] == 202
    assert final(agent, "lost-2")["status"] == "done"
    assert [doc["mark"] for doc in sim.tape() if doc["type"] == "receipt"] == ["lost-1", "lost-2"]


def test_power_cut_before_sale_ran_prints_it_once_when_power_is_back(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """Nothing stored: /check_status says not found, the receipt is printed once, power back."""
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_agent(sim, settings=SETTINGS)
    _cut_at_sale(sim, agent, "cut-1", after=False)
    sim.post("/power/back")

    result = final(agent, "cut-1")
    assert result["status"] == "done", result
    on_tape = marked(sim, "cut-1")
    assert len(on_tape) == 1, on_tape
    assert result["fiscal"]["doc_id"] == on_tape[0]["doc_id"]
    events = agent.events()
    assert "receipt_not_issued_will_print" in events
    assert "receipt_recovered" not in events
    _line_resumes(agent)
