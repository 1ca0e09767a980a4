"""The kill storm through the SmartOne path: one receipt per id on an e-kassa cashbox.

test_kill_storm.py's storm (through test_kill_storm_atol.py's supervisor, which also revives
an agent that died while it waits for a fault) with the agent configured for
``country = "AZ"``, ``[register] protocol = "smartone"`` against ``firmware-sim serve
--smartone``. Exactly once rests on the key: ``documentExtID`` is the row's id on every try,
and a receipt left in doubt is settled by ``/check_status`` under that key
(docs/smartone-driver.md §3-§4). The faults in SmartOne's terms:

- outside SIGKILLs of the agent at random moments, and the same crash points inside it;
- the power cut at ``/sale``, before the cashbox ran it and after (stored, reply dropped),
  longer than the driver's one resend: the line stops and recovery asks by the key;
- ``/sale`` refused with code 5 (internal error: retried under the same ``documentExtID``),
  before and after it ran, as often as the worker attempts it, so the give-up path runs;
- instead of a kill inside an open receipt (a SmartOne receipt is one request), a kill while
  a sale is still processing on the cashbox (``/faults/delay``: 44 until it is committed): the
  new agent must not print it twice, and proves it issued by ``/check_status``.

Every receipt is 150.00 AZN with a ``vat18`` line. Afterwards the tape holds exactly one
receipt per accepted id, proven by the marks, none is missing, each result's ``doc_id`` is the
tape's fiscalID, and the cashbox's money registers equal the sum of the done receipts.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.agent.scenarios.test_kill_storm import (
    ATTEMPTS,
    COFFEE_KOPECKS,
    POWER_CUTS,
    start_storm_agent,
)
from tests.agent.scenarios.test_kill_storm_atol import AtolSupervisor
from tests.support.kill_storm import StormGoals, check_agent, check_tape_and_books, drive
from tests.support.processes import Agent
from tests.support.smartone_sim import SmartOneSimProcess

pytestmark = [pytest.mark.sim, pytest.mark.slow, pytest.mark.timeout(600)]

RECEIPTS = 120
MAX_RECEIPTS = 500
MIN_KILLS = 12
CUT_POINTS = (("sale", False), ("sale", True))
INTERNAL_ERROR = 5  # SmartOne: the cashbox failed inside; the same request is sent again
STILL_PROCESSING = 44  # SmartOne: the document is not done yet; ask /check_status again
# A request of the killed agent still in flight is answered within this; the next agent
# starts later (about a second), so a 44 past it went to a new agent.
IN_FLIGHT = timedelta(seconds=0.3)
REFUSALS = 4
PROCESSING_KILLS = 3
# A sale stays "processing" (44) this long: a kill lands on it, and the next agent (about a
# second to start) still finds it processing when it asks /check_status.
PROCESSING_MS = 3000
SMARTONE = {
    "poll_interval_s": 0.1,
    "read_timeout_s": 3,
    "sale_timeout_s": 3,
    # Above PROCESSING_MS: a slow sale is waited for, not given up on.
    "processing_timeout_s": 8,
}


class SmartOneSupervisor(AtolSupervisor):
    """The storm's supervisor with the cashbox's faults armed on ``/sale``.

    ``processing_kills`` holds the cashbox's ``documentID`` of each sale that was processing
    when the agent was killed, and the moment of the kill: the checks afterwards find it on
    the tape by that id, and the next agent's ``/check_status`` calls in the cashbox's log.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.processing_kills: list[tuple[int, datetime]] = []

    def _cut_inside_a_receipt(self) -> None:
        """Cut the power at ``/sale``, before or after the cashbox runs it."""
        route, after = CUT_POINTS[self.power_cuts % len(CUT_POINTS)]
        if self.sim.state()["power"] is False:
            self.sim.post("/power/back")
        self.sim.post("/power/cut", {"on_task": route, "after": after})
        try:
            self._wait_for(lambda: self.sim.state()["power"] is False, timeout_s=15, what="the cut")
        except TimeoutError:
            self.sim.post("/power/disarm")
            self.sim.post("/power/back")
            return
        # Longer than the driver's one resend of a lost answer (1.5 s later): the second loss
        # stops the line, and recovery must wait for the cashbox to settle the receipt.
        self.stop.wait(self.rng.uniform(2.5, 3.5))
        self.sim.post("/power/back")
        self.power_cuts += 1

    def _arm_refusals(self) -> None:
        """The next sales are refused with 5, before or after they run (alternately)."""
        after = self.refusal_runs % 2 == 1 and self.has_given_up()
        count = ATTEMPTS if after else 2 * ATTEMPTS
        body = {"on_task": "sale", "code": INTERNAL_ERROR, "count": count, "after": after}
        self.sim.post("/faults/refuse", body)
        self.refusal_runs += 1

    def _kill_inside_an_open_receipt(self) -> None:
        """Slow the cashbox's sales down, kill the agent while one is still processing."""
        self.sim.post("/faults/delay", {"ms": PROCESSING_MS})
        try:
            self._wait_for(
                lambda: self.sim.state()["processing"],
                timeout_s=20,
                what="a sale processing on the cashbox",
            )
        except TimeoutError:
            return
        finally:
            with self.lock:
                processing = list(self.sim.state()["processing"])
                if processing and self.agent.is_alive():
                    self.agent.kill()
                    killed_at = datetime.now(UTC)
                    self.outside_kills += 1
                    self.open_receipt_kills += 1
                    self.processing_kills += [(doc, killed_at) for doc in processing]
                    self._restart()
            self.sim.post("/faults/delay", {"ms": 0})


GOALS = StormGoals(
    receipts=RECEIPTS,
    max_receipts=MAX_RECEIPTS,
    min_kills=MIN_KILLS,
    power_cuts=POWER_CUTS,  # two at each cut point: the loop stops cutting after these
    open_kills=PROCESSING_KILLS,
    open_kills_what="kills with a sale processing",
    refusals=REFUSALS,
    kopecks=COFFEE_KOPECKS,
    pause_s=0.05,
    trickle_s=0.5,
    vat="vat18",
)


def _check_recovery_by_request(
    agent: Agent, sim: SmartOneSimProcess, supervisor: SmartOneSupervisor
) -> None:
    """Both answers of ``/check_status`` were taken, and each processing kill was resolved.

    A cut outlasting the driver's one resend of ``/sale`` fails the attempt as ``link_down``;
    a code 5 refusal as ``register_internal_error``.
    A receipt proven issued by ``/check_status`` logs ``recovery_decided`` with
    ``by="request"`` and ``decision="issued"``, then ``receipt_recovered``; one proven not
    issued (code 9) ``decision="reprint"``, then ``receipt_not_issued_will_print``. A sale
    that was still processing when its agent was killed is on the tape once, a later agent
    recorded it from ``/check_status`` rather than selling it again, and at least once that
    agent found it still processing (the cashbox answered 44 after the kill) and waited.
    """
    records = agent.log_records()
    failed = {str(r.get("error")) for r in records if r.get("event") == "attempt_failed"}
    assert "register_internal_error" in failed, "no code 5 refusal ever failed an attempt"
    assert "link_down" in failed, "no power cut ever outlasted the driver's resend"
    resent = [r for r in records if r.get("event") == "answer lost: resending the same request"]
    assert resent, "no answer was ever lost at /sale (the power cuts missed it)"
    decided = [r for r in records if r.get("event") == "recovery_decided"]
    assert decided, "no receipt was ever settled"
    assert all(r.get("by") == "request" for r in decided), "settled other than by the key"
    decisions = {str(r.get("decision")) for r in decided}
    assert "issued" in decisions, "/check_status never proved a receipt issued"
    assert "reprint" in decisions, "/check_status never proved a receipt not issued"
    assert "unknown" not in decisions, [r for r in decided if r.get("decision") == "unknown"]

    recovered = {str(r.get("request_id")) for r in records if r.get("event") == "receipt_recovered"}
    by_document = {doc["document_id"]: doc for doc in sim.tape() if doc["type"] == "receipt"}
    still_processing = _check_status_44(sim)
    assert len(supervisor.processing_kills) >= PROCESSING_KILLS
    waited = 0
    for document_id, killed_at in supervisor.processing_kills:
        doc = by_document.get(document_id)
        assert doc is not None, f"documentID {document_id} was processing, then never committed"
        assert doc["mark"] in recovered, f"{doc['mark']} was not recovered from /check_status"
        late = killed_at + IN_FLIGHT
        waited += any(at > late for at in still_processing.get(doc["mark"], []))
    assert waited > 0, "no agent ever found a killed agent's sale still processing"


def _check_status_44(sim: SmartOneSimProcess) -> dict[str, list[datetime]]:
    """When the cashbox answered ``/check_status`` with 44, by ``documentExtID`` (its log)."""
    assert sim.log_file is not None
    answered: dict[str, list[datetime]] = {}
    for line in sim.log_file.read_text().splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("route") == "check_status" and record.get("code") == STILL_PROCESSING:
            at = datetime.fromisoformat(record["timestamp"])
            answered.setdefault(str(record["ext_id"]), []).append(at)
    return answered


def test_smartone_every_accepted_receipt_is_printed_exactly_once(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """120+ receipts, SIGKILLs, power cuts, refusals, slow sales: one receipt per id, books balance."""
    rng = random.Random(20261202)
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_storm_agent(start_agent, sim, {"smartone": SMARTONE})
    supervisor = SmartOneSupervisor(agent, sim, rng)
    supervisor.thread.start()
    accepted = drive(agent, sim, supervisor, GOALS, rng)

    # A SmartOne receipt is one request, never left open: nothing to cancel, unlike Shtrih's.
    results, not_issued = check_agent(agent, supervisor, GOALS, accepted)
    assert not any(r.get("cancelled") for r in not_issued), "a SmartOne receipt was cancelled"
    _check_recovery_by_request(agent, sim, supervisor)
    check_tape_and_books(agent, sim, GOALS, accepted, results)
