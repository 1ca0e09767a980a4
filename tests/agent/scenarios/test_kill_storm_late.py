"""Exactly once for late payments too: a short kill storm with corrections mixed in.

A shorter sibling of test_kill_storm.py. Every third payment was taken two days ago (its
``paid_at`` lies before the shift the agent prints in), so it must become a correction
receipt (FD type 31); the others are ordinary receipts. The agent is SIGKILLed from outside
at random moments and kills itself right after ``printing`` is committed, right after
the register answered and just before a group commit (a done with the next intent, which
carries its correction decision; crash points); the power is cut once after a close ran.
Afterwards the FN holds exactly one document per accepted id, found by its mark, of the
type the payment called for, and each result names that document and its type.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support.kill_storm import result, serving, submit
from tests.support.payloads import receipt
from tests.support.processes import Agent, Simulator, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.slow, pytest.mark.timeout(240)]

RECEIPTS = 30
EXTRA_RECEIPTS = 40  # at most, past RECEIPTS, until a crash point has fired (as the storm does)
MIN_KILLS = 5
CRASH_POINTS = "after_issue=0.06,after_mark_printing=0.06,before_group_commit=0.06"
COFFEE = 15_000


def _is_late(index: int) -> bool:
    return index % 3 == 1


class Killer:
    """Restarts the agent whenever it dies and SIGKILLs it at random; one power cut."""

    def __init__(self, agent: Agent, sim: Simulator, rng: random.Random) -> None:
        self.agent, self.sim, self.rng = agent, sim, rng
        self.kills = 0
        self.restarts = 0
        self.cut = False
        self.power_back_at: float | None = None
        self.is_power_back = False
        self.errors: list[Exception] = []
        self.armed = threading.Event()  # kills and the cut start once set
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="killer", daemon=True)

    def _power_back_when_due(self) -> None:
        """Once the armed cut has fired, power comes back after 5 s (longer than a blip)."""
        if not self.cut or self.is_power_back:
            return
        if self.power_back_at is None:
            if self.sim.state()["power"] is False:
                self.power_back_at = time.monotonic() + 5.0
        elif time.monotonic() >= self.power_back_at:
            self.sim.post("/power/back")
            self.is_power_back = True

    def _is_up(self) -> bool:
        """The agent runs and answers: it has started its worker."""
        if not self.agent.is_alive():
            return False
        try:
            return http("GET", f"{self.agent.base}/health", timeout_s=2)[0] == 200
        except OSError:
            return False

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.errors.append(exc)

    def _loop(self) -> None:
        next_kill = time.monotonic() + self.rng.uniform(0.5, 1.5)
        while not self.stop.is_set():
            if not self.agent.is_alive():  # a crash point killed it: systemd starts it again
                self.restarts += 1
                self.agent.start(wait=False)
            self._power_back_when_due()
            if not self.armed.is_set():
                time.sleep(0.02)
                continue
            if time.monotonic() >= next_kill and not self._is_up():
                next_kill = time.monotonic() + 0.5  # still starting: kill a running agent
            elif time.monotonic() >= next_kill:
                self.agent.kill()
                self.kills += 1
                self.agent.start(wait=False)
                next_kill = time.monotonic() + self.rng.uniform(0.3, 1.5)
            time.sleep(0.02)


def _crash_points_fired(agent: Agent) -> int:
    return sum(1 for r in agent.log_records() if r.get("event") == "crash_point")


def _until_a_crash_point_fired(agent: Agent, expected: dict[str, str]) -> None:
    """More ordinary payments, one at a time, until the agent has crashed at a crash point.

    A crash point fires with a small probability each time the worker passes it: 30 payments
    miss all of them now and then (about once in a few hundred runs), and the test asserts
    that the path ran. So the storm goes on, as the big storm does until its faults landed.
    """
    for extra in range(EXTRA_RECEIPTS):
        if _crash_points_fired(agent):
            return
        request_id = f"late-storm-extra-{extra:02d}"
        body = receipt(request_id, COFFEE)
        wait_until(
            lambda body=body: submit(agent, body), timeout_s=60, interval_s=0.05, what=request_id
        )
        expected[request_id] = "receipt"
        wait_until(
            lambda request_id=request_id: (result(agent, request_id) or {}).get("status") == "done",
            timeout_s=60,
            interval_s=0.05,
            what=f"{request_id} done",
        )


def _storm(
    agent: Agent, sim: Simulator, killer: Killer, rng: random.Random, expected: dict[str, str]
) -> str:
    """Warm up, then the payments under kills and one cut; returns the late ones' paid_at."""
    # The shift opens for the first (ordinary) payment: "two days ago" is another shift.
    wait_until(lambda: submit(agent, receipt("warm-up", COFFEE)), timeout_s=30, what="warm-up")
    wait_until(
        lambda: (result(agent, "warm-up") or {}).get("status") == "done",
        timeout_s=30,
        what="the warm-up receipt",
    )
    paid_at = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    sim.post("/power/cut", {"on_command": "FF45", "after": True})  # the next close, once
    killer.cut = True
    killer.armed.set()
    try:
        for i in range(RECEIPTS):
            request_id = f"late-storm-{i:02d}"
            body = receipt(request_id, COFFEE, pay=("cash", "card")[i % 2])
            if _is_late(i):
                body["paid_at"] = paid_at
            wait_until(
                lambda body=body: submit(agent, body),
                timeout_s=60,
                interval_s=0.05,
                what=request_id,
            )
            expected[request_id] = "correction" if _is_late(i) else "receipt"
            time.sleep(rng.uniform(0, 0.05))
        _until_a_crash_point_fired(agent, expected)
        wait_until(lambda: killer.kills >= MIN_KILLS, timeout_s=60, what=f"{MIN_KILLS} kills")
        wait_until(lambda: killer.is_power_back, timeout_s=60, what="the cut and power back")
    finally:
        killer.armed.clear()  # no more kills; crash points still fire, and it restarts the agent
        sim.post("/power/disarm")
        sim.post("/power/back")

    def all_final() -> bool:
        results = [result(agent, request_id) for request_id in expected]
        return all(r is not None and r["status"] not in {"pending", "printing"} for r in results)

    wait_until(all_final, timeout_s=120, interval_s=0.5, what="every payment final")
    return paid_at


def test_late_and_ordinary_payments_under_kills_get_one_document_of_the_right_type(
    start_sim: Any, start_agent: Any
) -> None:
    """30 payments, a third of them late, 5+ SIGKILLs: one FN document per id, right type."""
    rng = random.Random(20261201)
    sim: Simulator = start_sim()
    agent: Agent = start_agent(
        sim,
        env={"FISCAL_EDGE_CRASH_POINTS": CRASH_POINTS},
        settings={"worker": {"retry_initial_s": 0.05, "retry_max_s": 0.5}},
    )
    killer = Killer(agent, sim, rng)
    killer.thread.start()  # restarts the agent after its crash points from the start
    expected: dict[str, str] = {"warm-up": "receipt"}
    try:
        paid_at = _storm(agent, sim, killer, rng, expected)
    finally:
        # Whatever failed: no killer may outlive the test and restart an agent after it.
        killer.stop.set()
        killer.thread.join(timeout=10)
    assert not killer.errors, killer.errors
    serving(agent)
    results = {request_id: result(agent, request_id) for request_id in expected}
    assert {r["status"] for r in results.values() if r} == {"done"}, results
    assert "Traceback" not in (agent.workdir / "agent.log").read_text()
    points = collections.Counter(
        str(r.get("point")) for r in agent.log_records() if r.get("event") == "crash_point"
    )
    assert sum(points.values()) > 0, "no crash point fired"

    by_mark: dict[str, list[dict[str, Any]]] = {}
    for doc in sim.tape():
        if doc["type"] in {"receipt", "correction"}:
            by_mark.setdefault(doc.get("mark") or "", []).append(doc)
    twice = {mark: [d["fd"] for d in docs] for mark, docs in by_mark.items() if len(docs) > 1}
    assert not twice, f"printed twice: {twice}"
    assert set(by_mark) == set(expected), "one document per accepted id, each with its mark"
    paid_on = datetime.fromisoformat(paid_at).astimezone(timezone(timedelta(hours=3))).date()
    for request_id, kind in expected.items():
        (doc,) = by_mark[request_id]
        fiscal = results[request_id]["fiscal"]  # type: ignore[index]
        assert doc["type"] == kind, request_id
        assert fiscal["type"] == kind, request_id
        assert fiscal["fd"] == doc["fd"], request_id
        if kind == "correction":
            assert doc["tags"]["1173"] == 0
            assert doc["settled_on"] == paid_on.isoformat()
    counts = collections.Counter(expected.values())
    assert counts["correction"] == RECEIPTS // 3
    assert killer.kills >= MIN_KILLS
    assert killer.is_power_back, "the power cut after a close never fired"
