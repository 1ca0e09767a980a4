"""The agent as deployed: its own process, receipts through the local HTTP API.

Latency and throughput come from the outbox's own timestamps (accepted_at when the row was
committed, updated_at when it was stored done), so the benchmark's polling adds no noise;
the benchmark polls the outbox file, not the agent's HTTP API, so it takes no CPU from the
agent either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from agent.config import DATABASE_FILE
from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from bench.crm_client import CrmClient
from bench.procfs import ProcSample, rss_bytes, sample
from bench.wire import WireCount, WireMeter
from bench.workload import burst_receipts, fresh_simulator, new_agent, receipt_body
from tests.support.processes import Agent, http, wait_until

__all__ = ["AgentRun", "run_agent"]


@dataclass(frozen=True, slots=True)
class AgentRun:
    """What one agent run measured."""

    sequential_ms: list[float]  # commit to done, one receipt at a time
    burst: int
    drain_s: float  # first commit to last done
    accept_s: float  # the HTTP submissions of the burst
    used: ProcSample  # agent CPU and disk writes over the burst
    log_bytes: int  # growth of agent.log over the burst
    wire: WireCount  # over the burst
    rss_bytes: int  # after the burst
    idle_s: float  # how long the agent was left with no work
    idle_cpu_pct: float | None  # of one core, with no work
    debug_records: int = 0  # log records at debug level (must be 0); read after the agent stops
    receipts_on_tape: int = 0  # read from the simulator's state file after it stops
    keep_alive: bool = True  # the receipts went on one kept-alive HTTP connection


def _submit(client: CrmClient, body: dict[str, object]) -> None:
    status, answer = client.post("/receipts", body)
    assert status == 202, (status, answer)


def _sequential(client: CrmClient, outbox: Outbox, count: int) -> list[float]:
    latencies = []
    for i in range(count):
        request_id = f"seq-{i}"
        _submit(client, receipt_body(request_id, 10_000 + i))
        row = wait_until(
            lambda rid=request_id: _done(outbox, rid),
            timeout_s=60,
            interval_s=0.001,
            what=request_id,
        )
        latencies.append((row.updated_at - row.accepted_at).total_seconds() * 1000)
    return latencies


def _done(outbox: Outbox, request_id: str) -> object:
    row = outbox.get(request_id)
    if row is None or row.state in {RowState.PENDING, RowState.PRINTING}:
        return None
    assert row.state is RowState.DONE, f"{request_id} ended {row.state.value}: {row.error_code}"
    return row


def _drain_s(outbox: Outbox, ids: set[str]) -> float:
    rows = [row for row in outbox.list(limit=10_000) if row.id in ids]
    assert len(rows) == len(ids), f"{len(ids) - len(rows)} burst receipts missing"
    assert all(row.state is RowState.DONE for row in rows), "every burst receipt must be done"
    first = min(row.accepted_at for row in rows)
    last = max(row.updated_at for row in rows)
    return (last - first).total_seconds()


def _idle_cpu_pct(pid: int, idle_s: float) -> float | None:
    if idle_s <= 0:
        return None
    before = sample(pid).cpu_s
    time.sleep(idle_s)
    return (sample(pid).cpu_s - before) / idle_s * 100


def run_agent(
    workdir: Path,
    *,
    sequential: int,
    burst: int,
    idle_s: float,
    sim_args: tuple[str, ...] = (),
    keep_alive: bool = True,
) -> AgentRun:
    """Open a shift, print ``sequential`` receipts one by one, then a burst, then stay idle.

    The receipts go on one kept-alive connection, as a CRM's HTTP client sends them; with
    ``keep_alive=False`` each on a new connection (bench/crm_client.py).
    """
    sim = fresh_simulator(workdir, "agent-register", *sim_args)
    agent = new_agent(workdir / "agent", sim.url)
    try:
        agent.start()
        assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
        outbox = Outbox(agent.workdir / DATABASE_FILE, clock=lambda: datetime.now(UTC))
        client = CrmClient(agent.base, keep_alive=keep_alive)
        try:
            meter = WireMeter(sim, logs_frames=bool(sim_args))
            run = _measure(
                agent, client, outbox, meter, sequential=sequential, burst=burst, idle_s=idle_s
            )
        finally:
            client.close()
            outbox.close()
    finally:
        agent.stop()
        sim.stop()
    debug = sum(1 for record in agent.log_records() if record.get("level") == "debug")
    on_tape = sum(1 for doc in sim.tape() if doc["type"] == "receipt")
    return replace(run, debug_records=debug, receipts_on_tape=on_tape, keep_alive=keep_alive)


def _measure(
    agent: Agent,
    client: CrmClient,
    outbox: Outbox,
    meter: WireMeter,
    *,
    sequential: int,
    burst: int,
    idle_s: float,
) -> AgentRun:
    assert agent.proc is not None
    pid = agent.proc.pid
    log_path = agent.workdir / "agent.log"
    sequential_ms = _sequential(client, outbox, sequential)

    bodies = burst_receipts("burst", burst)
    meter.settle()
    start, log_start, wire_start = sample(pid), log_path.stat().st_size, meter.mark()
    started = time.perf_counter()
    for body in bodies:
        _submit(client, body)
    accept_s = time.perf_counter() - started
    wait_until(
        lambda: (stats := outbox.stats()).pending + stats.printing == 0,
        timeout_s=600,
        interval_s=0.02,
        what="the outbox to drain",
    )
    meter.settle()
    used, wire = sample(pid) - start, meter.since(wire_start)
    log_bytes, rss = log_path.stat().st_size - log_start, rss_bytes(pid)
    return AgentRun(
        sequential_ms=sequential_ms,
        burst=burst,
        drain_s=_drain_s(outbox, {str(body["id"]) for body in bodies}),
        accept_s=accept_s,
        used=used,
        log_bytes=log_bytes,
        wire=wire,
        rss_bytes=rss,
        idle_s=idle_s,
        idle_cpu_pct=_idle_cpu_pct(pid, idle_s),
    )
