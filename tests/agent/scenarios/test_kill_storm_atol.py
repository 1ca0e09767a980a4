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

Shorter than the Shtrih storm (120 receipts), to keep the heavy storms group within CI's budget.
Afterwards the FN tape holds exactly one receipt per accepted id, proven by the marks, none is
missing, and the register's money registers equal the sum of the outbox's done receipts.
"""

from __future__ import annotations

import random
import signal
import time
from typing import Any

import pytest

from tests.agent.scenarios.test_kill_storm import (
    ATTEMPTS,
    COFFEE_KOPECKS,
    Supervisor,
    start_storm_agent,
)
from tests.support.atol_sim import AtolSimProcess
from tests.support.kill_storm import StormGoals, check_agent, check_tape_and_books, drive
from tests.support.processes import Agent, wait_until

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


GOALS = StormGoals(
    receipts=RECEIPTS,
    max_receipts=MAX_RECEIPTS,
    min_kills=MIN_KILLS,
    power_cuts=POWER_CUTS,
    open_kills=QUEUED_TASK_KILLS,
    open_kills_what="kills with a task queued",
    refusals=REFUSALS,
    kopecks=COFFEE_KOPECKS,
    pause_s=0.05,
    # Past RECEIPTS only a slow trickle (the faults still to come need receipts to land in), so
    # the backlog the agent must print afterwards stays short.
    trickle_s=0.5,
)


def test_atol_every_accepted_receipt_is_printed_exactly_once(
    start_atol_sim: Any, start_agent: Any
) -> None:
    """120+ receipts, SIGKILLs, power cuts and refusals: one FN receipt per id, books balance."""
    rng = random.Random(20261201)
    sim: AtolSimProcess = start_atol_sim()
    agent: Agent = start_storm_agent(start_agent, sim, {"atol": ATOL})
    supervisor = AtolSupervisor(agent, sim, rng)
    supervisor.thread.start()
    accepted = drive(agent, sim, supervisor, GOALS, rng)

    # An ATOL receipt is never left open between tasks: nothing to cancel, unlike Shtrih's.
    results, _ = check_agent(agent, supervisor, GOALS, accepted)
    check_tape_and_books(agent, sim, GOALS, accepted, results)
