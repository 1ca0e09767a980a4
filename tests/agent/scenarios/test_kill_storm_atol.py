"""The kill storm through the ATOL path: one receipt per id on an ATOL register.

test_kill_storm.py's storm (its :class:`Supervisor`) with the agent configured for
``[register] protocol = "atol"`` against ``firmware-sim serve --atol-web``. The faults in
ATOL's terms:

- outside SIGKILLs of the agent at random moments, and the same crash points inside it;
- the power cut at the sell task, before the register ran it and after (the web server then
  keeps the task ``blocked`` until the power is back; the driver gives up waiting first);
- the sell task refused with ATOL code 55 (the printer busy, a refusal the worker retries),
  before and after it ran, as often as the worker attempts it, so the give-up path runs;
- instead of a kill inside a receipt left open on a Shtrih register (an ATOL receipt is one
  task, never left open), a kill while a sell task waits in the web server's queue: the new
  agent must not send a new uuid while that task can still run.

Shorter than the Shtrih storm (120 receipts), to keep the HEAVY group within CI's budget.
Afterwards the FN tape holds exactly one receipt per accepted id, proven by the marks, none is
missing, and the register's money registers equal the sum of the outbox's done receipts.
"""

from __future__ import annotations

import collections
import random
import signal
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.agent.scenarios.test_kill_storm import (
    ATTEMPTS,
    COFFEE_KOPECKS,
    CRASH_POINTS,
    Supervisor,
)
from tests.support.atol_sim import AtolSimProcess
from tests.support.payloads import receipt
from tests.support.processes import Agent, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.slow, pytest.mark.timeout(600)]

RECEIPTS = 120
MAX_RECEIPTS = 500
MIN_KILLS = 12
CUT_POINTS = (("sell", False), ("sell", True))
POWER_CUTS = 2  # one at each cut point: before and after the sell task runs
PRINTER_BUSY = 55  # ATOL: a refusal the worker retries (RETRY)
REFUSALS = 4
QUEUED_TASK_KILLS = 3
QUEUE_DELAY_MS = 300  # a task stays inProgress this long, so a kill can land on it
# A task kept blocked by the dark register is given up on inside a power cut (3.6-4.5 s).
ATOL = {"task_timeout_s": 3.0}


class AtolSupervisor(Supervisor):
    """The storm's supervisor with the register's faults armed on ATOL tasks.

    Its waits for a fault to land also restart an agent that died meanwhile (a crash point):
    otherwise the agent stays dead for the whole wait (up to 20 s) and nothing is printed.
    """

    def _revive(self) -> None:
        """Restart the agent if it died, counting the death as the supervisor's loop does."""
        with self.lock:
            if self.agent.is_alive():
                return
            code = self.agent.proc.returncode if self.agent.proc else None
            if code == -signal.SIGKILL:
                self.self_kills += 1
            elif code is not None:
                self.crashes.append(code)
            self._restart()

    def _wait_for(self, predicate: Any, *, timeout_s: float, what: str) -> None:
        def landed() -> bool:
            self._revive()
            return bool(predicate())

        wait_until(landed, timeout_s=timeout_s, interval_s=0.02, what=what)

    def _cut_inside_a_receipt(self) -> None:
        """Cut the power at the sell task, before or after the register runs it."""
        task, after = CUT_POINTS[self.power_cuts % len(CUT_POINTS)]
        if self.sim.state()["power"] is False:
            self.sim.post("/power/back")
        self.sim.post("/power/cut", {"on_task": task, "after": after})
        try:
            self._wait_for(lambda: self.sim.state()["power"] is False, timeout_s=15, what="the cut")
        except TimeoutError:
            self.sim.post("/power/disarm")
            self.sim.post("/power/back")
            return
        # Longer than the driver waits for a blocked task (task_timeout_s): the agent must
        # give up on it and stop the line, not just ride over a blip.
        time.sleep(self.rng.uniform(3.6, 4.5))
        self.sim.post("/power/back")
        self.power_cuts += 1

    def _arm_refusals(self) -> None:
        """The next sell tasks are refused with 55, before or after they run (alternately)."""
        after = self.refusal_runs % 2 == 1 and self.has_given_up()
        count = ATTEMPTS if after else 2 * ATTEMPTS
        body = {"on_task": "sell", "code": PRINTER_BUSY, "count": count, "after": after}
        self.sim.post("/faults/refuse", body)
        self.refusal_runs += 1

    def _kill_inside_an_open_receipt(self) -> None:
        """Slow the register's tasks down, kill the agent while one is in the server's queue."""
        self.sim.post("/faults/delay", {"ms": QUEUE_DELAY_MS})
        try:
            self._wait_for(
                lambda: self.sim.state()["queue"]["number"] > 0,
                timeout_s=20,
                what="a task in the web server's queue",
            )
        except TimeoutError:
            return
        finally:
            with self.lock:
                if self.sim.state()["queue"]["number"] > 0 and self.agent.is_alive():
                    self.agent.kill()
                    self.outside_kills += 1
                    self.open_receipt_kills += 1
                    self._restart()
            self.sim.post("/faults/delay", {"ms": 0})


def _submit(agent: Agent, body: dict[str, Any]) -> bool:
    try:
        status, answer = http("POST", f"{agent.base}/receipts", body, timeout_s=5)
    except OSError:
        return False
    assert status in {200, 202, 503}, (status, answer)
    return status in {200, 202}


def _result(agent: Agent, request_id: str) -> dict[str, Any] | None:
    try:
        status, body = http("GET", f"{agent.base}/receipts/{request_id}", timeout_s=5)
    except OSError:
        return None
    return body if status == 200 else None


def test_atol_every_accepted_receipt_is_printed_exactly_once(
    start_atol_sim: Any, start_agent: Any
) -> None:
    """120+ receipts, SIGKILLs, power cuts and refusals: one FN receipt per id, books balance."""
    rng = random.Random(20261201)
    sim: AtolSimProcess = start_atol_sim()
    agent: Agent = start_agent(
        sim,
        env={"FISCAL_EDGE_CRASH_POINTS": CRASH_POINTS},
        settings={
            "worker": {"retry_initial_s": 0.05, "retry_max_s": 0.5, "retry_attempts": ATTEMPTS},
            "atol": ATOL,
        },
    )
    supervisor = AtolSupervisor(agent, sim, rng)
    supervisor.thread.start()
    try:
        accepted: dict[str, int] = {}
        try:
            i = 0
            while i < RECEIPTS or (
                i < MAX_RECEIPTS
                and (
                    supervisor.kills < MIN_KILLS
                    or supervisor.power_cuts < POWER_CUTS
                    or supervisor.open_receipt_kills < QUEUED_TASK_KILLS
                    or supervisor.refusal_runs < REFUSALS
                    or not supervisor.has_given_up()
                )
            ):
                request_id = f"storm-{i:03d}"
                pay = ("cash", "card", "cash")[i % 3]
                body = receipt(
                    request_id, COFFEE_KOPECKS, pay=pay, extra_cash=5000 if i % 3 == 0 else 0
                )
                wait_until(
                    lambda body=body: _submit(agent, body),
                    timeout_s=60,
                    interval_s=0.05,
                    what=request_id,
                )
                accepted[request_id] = COFFEE_KOPECKS
                i += 1
                # Past RECEIPTS only a slow trickle (the faults still to come need receipts to land
                # in), so the backlog the agent must print afterwards stays short.
                time.sleep(rng.uniform(0, 0.05) if i < RECEIPTS else 0.5)
            wait_until(
                lambda: supervisor.kills >= MIN_KILLS, timeout_s=120, what=f"{MIN_KILLS} kills"
            )
            wait_until(lambda: supervisor.power_cuts >= POWER_CUTS, timeout_s=60, what="power cuts")
            wait_until(
                lambda: (
                    supervisor.refusal_runs >= REFUSALS
                    and supervisor.has_given_up()
                    and supervisor.open_receipt_kills >= QUEUED_TASK_KILLS
                ),
                timeout_s=90,
                what="refusals and kills with a task queued",
            )
        finally:
            supervisor.stop_killing.set()
            with supervisor.lock:
                sim.post("/faults/clear")
                sim.post("/power/back")

        def all_final() -> bool:
            results = [_result(agent, request_id) for request_id in accepted]
            return all(
                r is not None and r["status"] not in {"pending", "printing"} for r in results
            )

        try:
            wait_until(all_final, timeout_s=240, interval_s=0.5, what="every receipt to be final")
        finally:
            supervisor.stop.set()
            supervisor.thread.join(timeout=10)
    finally:
        supervisor.stop_killing.set()
        supervisor.stop.set()
        supervisor.thread.join(timeout=10)

    results = {request_id: _result(agent, request_id) for request_id in accepted}
    statuses = {r["status"] for r in results.values() if r}
    assert statuses == {"done"}, {
        k: v for k, v in results.items() if not v or v["status"] != "done"
    }
    assert not supervisor.crashes, f"the agent crashed on its own: exit codes {supervisor.crashes}"
    log_text = (agent.workdir / "agent.log").read_text()
    assert "Traceback" not in log_text, "the agent logged a traceback"
    assert supervisor.kills >= MIN_KILLS
    records = agent.log_records()
    events = collections.Counter(str(r.get("event", "")) for r in records)
    points = collections.Counter(
        str(r.get("point")) for r in records if r.get("event") == "crash_point"
    )
    assert points["after_mark_printing"] > 0, "never killed right after the intent was stored"
    assert points["after_issue"] > 0, "never killed between the register's answer and done"
    assert points["before_group_commit"] > 0, (
        "never killed with a receipt signed and its done waiting for the next intent's commit"
    )
    assert supervisor.open_receipt_kills >= QUEUED_TASK_KILLS
    not_issued = [r for r in records if r.get("event") == "receipt_not_issued_will_print"]
    assert events["receipt_recovered"] > 0, "no receipt was proven issued by its mark"
    assert not_issued, "no receipt proven not issued"
    assert events["retries_exhausted_in_flight"] > 0, "the give-up path never ran"
    assert events["line_stopped"] > 0, "the line never stopped behind a doubtful receipt"
    assert events["attempt_failed"] > 0, "no power cut ever interrupted the agent"

    tape = sim.tape()
    fn_receipts = [doc for doc in tape if doc["type"] == "receipt"]
    by_mark: dict[str, list[dict[str, Any]]] = {}
    for doc in fn_receipts:
        by_mark.setdefault(doc.get("mark") or "", []).append(doc)
    duplicates = {mark: [d["fd"] for d in docs] for mark, docs in by_mark.items() if len(docs) > 1}
    assert not duplicates, f"receipts printed twice: {duplicates}"
    assert set(by_mark) == set(accepted), "every receipt carries the mark of an accepted id"
    assert len(accepted) >= RECEIPTS
    total = f"{Decimal(COFFEE_KOPECKS) / 100:.2f}"
    for request_id in accepted:
        fiscal = results[request_id]["fiscal"]  # type: ignore[index]
        (doc,) = by_mark[request_id]
        assert fiscal["fd"] == doc["fd"], request_id
        assert fiscal["mark"] == request_id
        assert fiscal["total"] == total == doc["total"]
        assert str(fiscal["fp"]) == str(doc["fp"])

    fds = [doc["fd"] for doc in tape]
    assert fds == list(range(fds[0], fds[0] + len(fds))), "FD numbers must be contiguous"

    status, report = http("POST", f"{agent.base}/shift", {"action": "x_report"}, timeout_s=30)
    assert status == 200, report
    shifts = {doc["shift"] for doc in fn_receipts}
    assert shifts == {report["shift"]}, "the storm stayed in one shift; the X report covers it"
    sales = report["counters"]["sales"]
    register_total = sum(Decimal(sales[key]) for key in ("cash", "card", "prepaid"))
    outbox_total = sum(Decimal(r["fiscal"]["total"]) for r in results.values() if r)
    assert register_total == outbox_total
    assert sales["count"] == len(accepted)
