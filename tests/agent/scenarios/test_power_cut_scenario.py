"""The register loses power at the worst two moments of a receipt; each gets exactly one FD.

Before the close (FF45) runs, the open receipt dies with the power: nothing was issued, so the
agent must print it again. After the close ran and the document was stored, the answer dies
with the power: it was issued, so the agent must record it and never print it again. From the
agent's side both look the same — a command without an answer — and only asking the register
tells them apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]


@pytest.mark.parametrize(
    ("after", "expected_event"),
    [(False, "receipt_not_issued_will_print"), (True, "receipt_recovered")],
    ids=["before-close", "after-close"],
)
def test_power_cut_at_the_close_gives_exactly_one_receipt(
    start_sim: Any, start_agent: Any, after: bool, expected_event: str
) -> None:
    """Cut at FF45 (before or after it runs), power back: one receipt on the FN, status done."""
    sim = start_sim()
    agent = start_agent(sim, settings={"worker": {"retry_initial_s": 0.1, "retry_max_s": 0.5}})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    sim.post("/power/cut", {"on_command": "FF45", "after": after})
    assert http("POST", f"{agent.base}/receipts", receipt("cut-1", 12345))[0] == 202
    wait_until(lambda: sim.state()["power"] is False, timeout_s=10, what="the armed power cut")
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["register"]["link"] == "down",
        timeout_s=20,
        what="health to see the link down",
    )
    assert http("GET", f"{agent.base}/receipts/cut-1")[1]["status"] == "printing"
    sim.post("/power/back")

    def final() -> dict[str, Any] | None:
        body = http("GET", f"{agent.base}/receipts/cut-1")[1]
        return body if body["status"] not in {"pending", "printing"} else None

    result = wait_until(final, timeout_s=30, what="the receipt to be final")
    assert result["status"] == "done"
    receipts = [doc for doc in sim.tape() if doc["type"] == "receipt"]
    assert [doc["total"] for doc in receipts] == ["123.45"]
    assert result["fiscal"]["fd"] == receipts[0]["fd"]
    assert expected_event in agent.events()
