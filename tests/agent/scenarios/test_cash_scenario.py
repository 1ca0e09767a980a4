"""Cash in and out through the agent: idempotent by id, refused above the drawer's balance."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.processes import http

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
