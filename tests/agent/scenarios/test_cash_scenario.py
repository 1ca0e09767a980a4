"""Cash in and out through the agent: idempotent by id, refused above the drawer's balance."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]


def test_cash_in_out_and_collection_above_the_drawer(start_sim: Any, start_agent: Any) -> None:
    """500.00 in, 800.00 out is refused (not_enough_cash), 300.00 out works; a resend moves nothing."""
    sim = start_sim()
    agent = start_agent(sim)
    cash_in = {"id": "cash-1", "direction": "in", "amount": "500.00", "comment": "float"}
    status, outcome = http("POST", f"{agent.base}/cash", cash_in)
    assert (status, outcome["status"]) == (200, "done")
    assert sim.state()["cash_in_drawer"] == 50000

    status, again = http("POST", f"{agent.base}/cash", cash_in)
    assert (status, again["status"]) == (200, "done")
    assert sim.state()["cash_in_drawer"] == 50000, "a resent cash command must not move money twice"

    too_much = {"id": "cash-2", "direction": "out", "amount": "800.00", "comment": "collection"}
    status, refused = http("POST", f"{agent.base}/cash", too_much)
    assert status == 200
    assert refused["status"] == "rejected"
    assert refused["error"]["code"] == "not_enough_cash"
    assert sim.state()["cash_in_drawer"] == 50000

    collect = {"id": "cash-3", "direction": "out", "amount": "300.00", "comment": "collection"}
    status, done = http("POST", f"{agent.base}/cash", collect)
    assert (status, done["status"]) == (200, "done")
    assert sim.state()["cash_in_drawer"] == 20000

    conflict = {**collect, "amount": "100.00"}
    status, body = http("POST", f"{agent.base}/cash", conflict)
    assert status == 409
    assert body["error"]["code"] == "id_conflict"

    status, report = http("POST", f"{agent.base}/shift", {"action": "x_report"})
    assert status == 200
    counters = report["counters"]
    assert (counters["cash_in"], counters["cash_out"], counters["cash_in_drawer"]) == (
        "500.00",
        "300.00",
        "200.00",
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("after", "expected_event"),
    [(False, "cash_not_moved_will_send"), (True, "cash_recovered")],
    ids=["before-cash-in", "after-cash-in"],
)
def test_cash_in_cut_by_a_power_loss_moves_the_drawer_exactly_once(
    start_sim: Any, start_agent: Any, after: bool, expected_event: str
) -> None:
    """Power lost at 0x50 before or after it runs: the drawer tells which, 500.00 goes in once."""
    sim = start_sim()
    agent = start_agent(sim, settings={"worker": {"retry_initial_s": 0.1, "retry_max_s": 0.5}})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    sim.post("/power/cut", {"on_command": "50", "after": after})
    cash_in = {"id": "cash-cut", "direction": "in", "amount": "500.00", "comment": "float"}
    status, outcome = http("POST", f"{agent.base}/cash", cash_in, timeout_s=30)
    assert status == 202, f"the cash-in finished while the register was off: {outcome}"
    assert outcome["status"] in {"pending", "printing"}
    sim.post("/power/back")

    def final() -> dict[str, Any] | None:
        body = http("POST", f"{agent.base}/cash", cash_in, timeout_s=30)[1]
        return body if body["status"] not in {"pending", "printing"} else None

    result = wait_until(final, timeout_s=60, what="the cash-in to be final")
    assert result["status"] == "done"
    assert sim.state()["cash_in_drawer"] == 50000
    assert expected_event in agent.events()
