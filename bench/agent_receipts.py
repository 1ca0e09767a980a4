"""Receipts per second and latency through the agent's outbox and driver.

Runs firmware-sim on a pseudo-terminal with no print or answer delay (a zero-latency
register) and the agent as its own process, exactly as deployed. Receipts go in through the
local HTTP API; the times come from the outbox itself (accepted_at when the row was committed,
updated_at when it was stored done), so polling adds no noise.

Two runs:
- sequential: one receipt at a time (submit, wait until done): the latency of one receipt;
- burst: N receipts submitted at once, then drained: throughput with a full queue.

    .venv/bin/python bench/agent_receipts.py [--sequential 200] [--burst 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from tests.support.payloads import receipt
from tests.support.processes import Agent, Simulator, http, wait_until


def _receipt(request_id: str, kopecks: int) -> dict[str, object]:
    chips = {"name": "Чипсы", "qty": "2", "price": "89.90", "vat": "vat22"}
    return receipt(request_id, kopecks, extra_cash=50_000, extra_items=[chips])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latencies_ms(outbox: Outbox, prefix: str) -> list[float]:
    rows = [row for row in outbox.list(limit=10_000) if row.id.startswith(prefix)]
    assert all(row.state is RowState.DONE for row in rows), "every benchmark receipt must be done"
    return [(row.updated_at - row.accepted_at).total_seconds() * 1000 for row in rows]


def _wait_done(agent: Agent, request_id: str) -> None:
    wait_until(
        lambda: http("GET", f"{agent.base}/receipts/{request_id}")[1]["status"] == "done",
        timeout_s=60,
        interval_s=0.001,
        what=request_id,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sim = Simulator(state_file=workdir / "register.db").start()
        agent = Agent(workdir=workdir, register_url=sim.url, settings={"log_level": "info"})
        agent.start()
        try:
            assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
            outbox = Outbox(workdir / "agent.sqlite3", clock=lambda: datetime.now(UTC))

            for i in range(args.sequential):
                request_id = f"seq-{i}"
                assert (
                    http("POST", f"{agent.base}/receipts", _receipt(request_id, 10_000 + i))[0]
                    == 202
                )
                _wait_done(agent, request_id)
            sequential = _latencies_ms(outbox, "seq-")

            started = time.perf_counter()
            for i in range(args.burst):
                assert (
                    http("POST", f"{agent.base}/receipts", _receipt(f"burst-{i}", 20_000 + i))[0]
                    == 202
                )
            submitted = time.perf_counter() - started
            _wait_done(agent, f"burst-{args.burst - 1}")
            wait_until(
                lambda: outbox.stats().pending + outbox.stats().printing == 0,
                timeout_s=120,
                what="the outbox to drain",
            )
            burst_rows = [row for row in outbox.list(limit=10_000) if row.id.startswith("burst-")]
            first = min(row.accepted_at for row in burst_rows)
            last = min(max(row.updated_at for row in burst_rows), datetime.now(UTC))
            drain_s = (last - first).total_seconds()
            tape = sim.tape()
            outbox.close()
        finally:
            agent.stop()
            sim.stop()
    receipts_on_tape = sum(1 for doc in tape if doc["type"] == "receipt")
    print("register: firmware-sim on a pty, zero latency; receipts of 2 items, cash with change")
    print(
        f"sequential ({args.sequential}): p50 {statistics.median(sequential):.1f} ms, "
        f"p99 {_percentile(sequential, 0.99):.1f} ms, max {max(sequential):.1f} ms "
        f"(commit to done)"
    )
    print(
        f"burst ({args.burst}): {args.burst / drain_s:.0f} receipts/s drained "
        f"({drain_s:.2f} s from first commit to last done); "
        f"HTTP accept {args.burst / submitted:.0f} requests/s"
    )
    print(f"FN tape: {receipts_on_tape} receipts for {args.sequential + args.burst} requests")
    return 0 if receipts_on_tape == args.sequential + args.burst else 1


if __name__ == "__main__":
    sys.exit(main())
