"""The kill storm's drive and checks, shared by every protocol's storm.

A storm test builds its simulator, its agent (with crash points) and a supervisor that kills
and restarts the agent and arms the protocol's faults (tests/agent/scenarios/test_kill_storm.py
for Shtrih, test_kill_storm_atol.py for ATOL). What does not depend on the protocol is here:
feeding same-total receipts until every fault has landed (:func:`drive`), and the proof
afterwards, the agent's side (:func:`check_agent`) and the FN's (:func:`check_tape_and_books`):
exactly one receipt per accepted id, found by its mark, none missing, the books balanced.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tests.support.payloads import receipt
from tests.support.processes import Agent, http, wait_until

__all__ = [
    "StormGoals",
    "StormSupervisor",
    "check_agent",
    "check_tape_and_books",
    "drive",
    "result",
    "serving",
    "submit",
]


class StormSupervisor(Protocol):
    """What the shared drive and checks read from a protocol's supervisor."""

    stop_killing: threading.Event
    stop: threading.Event
    lock: threading.Lock
    thread: threading.Thread
    power_cuts: int
    open_receipt_kills: int
    refusal_runs: int
    crashes: list[int]

    @property
    def kills(self) -> int:
        """Outside kills and crash-point self-kills so far."""
        ...

    def has_given_up(self) -> bool:
        """Whether a receipt's attempts ran out (the give-up path ran)."""
        ...


class StormSim(Protocol):
    """The simulator's control API and tape, as both protocols' process helpers give them."""

    def post(self, path: str, body: object | None = None) -> Any:
        """Call the control API."""
        ...

    def tape(self) -> list[dict[str, Any]]:
        """The FN tape as ``firmware-sim tape`` prints it."""
        ...


@dataclass(frozen=True, kw_only=True)
class StormGoals:
    """How long a storm runs: at least ``receipts``, more until every fault has landed."""

    receipts: int
    max_receipts: int
    min_kills: int
    power_cuts: int
    open_kills: int  # kills aimed inside a receipt (Shtrih: open; ATOL: its task queued)
    open_kills_what: str  # how the wait for them is named when it times out
    refusals: int
    kopecks: int  # every receipt's total: only the mark tells them apart
    pause_s: float  # the longest pause between two receipts while the storm runs
    trickle_s: float  # the pause past ``receipts``, while the last faults wait for receipts
    vat: str = "vat22"  # the coffee line's rate: Russia's 22 % (Shtrih, ATOL); AZ: vat18


def submit(agent: Agent, body: dict[str, Any]) -> bool:
    """POST once; True when the agent confirmed the commit (202 new, 200 known)."""
    try:
        status, answer = http("POST", f"{agent.base}/receipts", body, timeout_s=5)
    except OSError:
        return False
    assert status in {200, 202, 503}, (status, answer)
    return status in {200, 202}


def result(agent: Agent, request_id: str) -> dict[str, Any] | None:
    """The receipt's result as the agent answers it now; None while it does not answer."""
    try:
        status, body = http("GET", f"{agent.base}/receipts/{request_id}", timeout_s=5)
    except OSError:
        return None
    return body if status == 200 else None


def _faults_pending(supervisor: StormSupervisor, goals: StormGoals) -> bool:
    return (
        supervisor.kills < goals.min_kills
        or supervisor.power_cuts < goals.power_cuts
        or supervisor.open_receipt_kills < goals.open_kills
        or supervisor.refusal_runs < goals.refusals
        or not supervisor.has_given_up()
    )


def drive(
    agent: Agent,
    sim: StormSim,
    supervisor: StormSupervisor,
    goals: StormGoals,
    rng: random.Random,
) -> dict[str, int]:
    """Feed receipts through the storm, then wait until each is final; the accepted ids.

    The supervisor's thread must be running. Whatever fails, it is stopped before this
    returns or raises: no supervisor may outlive the test and restart an agent onto a line
    that a later test's simulator reuses.
    """
    accepted: dict[str, int] = {}
    try:
        try:
            i = 0
            while i < goals.receipts or (
                i < goals.max_receipts and _faults_pending(supervisor, goals)
            ):
                request_id = f"storm-{i:03d}"
                pay = ("cash", "card", "cash")[i % 3]
                body = receipt(
                    request_id,
                    goals.kopecks,
                    pay=pay,
                    extra_cash=5000 if i % 3 == 0 else 0,
                    vat=goals.vat,
                )
                wait_until(
                    lambda body=body: submit(agent, body),
                    timeout_s=60,
                    interval_s=0.05,
                    what=request_id,
                )
                accepted[request_id] = goals.kopecks
                i += 1
                time.sleep(rng.uniform(0, goals.pause_s) if i < goals.receipts else goals.trickle_s)
            wait_until(
                lambda: supervisor.kills >= goals.min_kills,
                timeout_s=120,
                what=f"{goals.min_kills} kills",
            )
            wait_until(
                lambda: supervisor.power_cuts >= goals.power_cuts, timeout_s=60, what="power cuts"
            )
            wait_until(
                lambda: (
                    supervisor.refusal_runs >= goals.refusals
                    and supervisor.has_given_up()
                    and supervisor.open_receipt_kills >= goals.open_kills
                ),
                timeout_s=90,
                what=f"refusals and {goals.open_kills_what}",
            )
        finally:
            supervisor.stop_killing.set()
            with supervisor.lock:
                sim.post("/faults/clear")
                sim.post("/power/back")

        def all_final() -> bool:
            results = [result(agent, request_id) for request_id in accepted]
            return all(
                r is not None and r["status"] not in {"pending", "printing"} for r in results
            )

        wait_until(all_final, timeout_s=240, interval_s=0.5, what="every receipt to be final")
    finally:
        supervisor.stop_killing.set()
        supervisor.stop.set()
        supervisor.thread.join(timeout=10)
    return accepted


def serving(agent: Agent) -> None:
    """The agent up and answering once the storm is over, before its results are read.

    The storm's supervisor restarts an agent a crash point killed without waiting for it:
    stopped at that moment, it leaves an agent still starting, whose API does not answer yet.
    """
    if not agent.is_alive():
        agent.start()
    wait_until(agent.answers_quickly, timeout_s=30, what="the agent to answer after the storm")


def check_agent(
    agent: Agent, supervisor: StormSupervisor, goals: StormGoals, accepted: dict[str, int]
) -> tuple[dict[str, dict[str, Any] | None], list[dict[str, Any]]]:
    """Every receipt done, no crash of its own, every fault and recovery path taken.

    Returns the results by id and the log records of receipts proven not issued (each
    protocol checks its own kind of them: a Shtrih receipt left open is cancelled).
    """
    serving(agent)
    results = {request_id: result(agent, request_id) for request_id in accepted}
    statuses = {r["status"] for r in results.values() if r}
    assert statuses == {"done"}, {
        k: v for k, v in results.items() if not v or v["status"] != "done"
    }
    assert not supervisor.crashes, f"the agent crashed on its own: exit codes {supervisor.crashes}"
    log_text = (agent.workdir / "agent.log").read_text()
    assert "Traceback" not in log_text, "the agent logged a traceback"
    assert supervisor.kills >= goals.min_kills
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
    assert supervisor.open_receipt_kills >= goals.open_kills
    not_issued = [r for r in records if r.get("event") == "receipt_not_issued_will_print"]
    assert events["receipt_recovered"] > 0, "no receipt was proven issued by its mark"
    assert any(not r.get("cancelled") for r in not_issued), "no receipt proven not issued"
    assert events["retries_exhausted_in_flight"] > 0, "the give-up path never ran"
    assert events["line_stopped"] > 0, "the line never stopped behind a doubtful receipt"
    assert events["attempt_failed"] > 0, "no power cut ever interrupted the agent"
    return results, not_issued


def check_tape_and_books(
    agent: Agent,
    sim: StormSim,
    goals: StormGoals,
    accepted: dict[str, int],
    results: dict[str, dict[str, Any] | None],
) -> None:
    """The FN holds exactly one receipt per accepted id (by its mark), and the books balance."""
    tape = sim.tape()
    fn_receipts = [doc for doc in tape if doc["type"] == "receipt"]
    by_mark: dict[str, list[dict[str, Any]]] = {}
    for doc in fn_receipts:
        by_mark.setdefault(doc.get("mark") or "", []).append(doc)
    duplicates = {mark: [d["fd"] for d in docs] for mark, docs in by_mark.items() if len(docs) > 1}
    assert not duplicates, f"receipts printed twice: {duplicates}"
    assert set(by_mark) == set(accepted), "every receipt carries the mark of an accepted id"
    assert len(accepted) >= goals.receipts
    total = f"{Decimal(goals.kopecks) / 100:.2f}"
    for request_id in accepted:
        fiscal = results[request_id]["fiscal"]  # type: ignore[index]
        (doc,) = by_mark[request_id]
        assert fiscal["mark"] == request_id
        assert fiscal["total"] == total == doc["total"]
        if "doc_id" not in doc:  # an FN's document (Shtrih, ATOL): its FD and fiscal sign
            assert fiscal["fd"] == doc["fd"], request_id
            assert str(fiscal["fp"]) == str(doc["fp"])
        else:  # a SmartOne cashbox: no FPD; its fiscalID, and its own number as the FD
            assert fiscal.get("fp") is None, (request_id, fiscal)
            assert doc["doc_id"], (request_id, doc)
            assert fiscal["doc_id"] == doc["doc_id"], request_id
            assert fiscal["fd"] == doc["document_id"], request_id

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
