"""The agent's CPU per receipt in two parts: taking receipts in, and printing them.

A run on a zero-latency firmware-sim: the agent as deployed (its own process, log level info),
a warm-up, then the simulator stopped (SIGSTOP) while N receipts are submitted on one
kept-alive connection (the intake alone: HTTP, validation, the commit before the 202), then
let go (SIGCONT) until all are done (the worker alone: the register, the intent and the done,
a backlog drained with its group commit). Both from /proc/<pid>: CPU, and context switches
(each thread hop and each wait for the register is one or two), the figure that moves least
with the machine's load.

    .venv/bin/python bench/agent_split.py [--receipts 800]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.config import DATABASE_FILE
from agent.outbox.store import Outbox
from bench.crm_client import CrmClient
from bench.procfs import sample
from bench.workload import burst_receipts, fresh_simulator, new_agent
from tests.support.processes import http, wait_until

WARM_UP = 50


def _switches(pid: int) -> int:
    """Voluntary and involuntary context switches of every thread of ``pid`` so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def _drained(outbox: Outbox) -> bool:
    stats = outbox.stats()
    return stats.pending + stats.printing == 0


def _submit(client: CrmClient, bodies: list[dict[str, object]]) -> None:
    for body in bodies:
        status, answer = client.post("/receipts", body)
        assert status == 202, (status, answer)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receipts", type=int, default=800, metavar="N")
    count = parser.parse_args().receipts
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        sim = fresh_simulator(Path(tmp), "register")
        agent = new_agent(Path(tmp) / "agent", sim.url)
        try:
            agent.start()
            assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
            assert agent.proc is not None
            assert sim.proc is not None
            pid = agent.proc.pid
            outbox = Outbox(agent.workdir / DATABASE_FILE, clock=lambda: datetime.now(UTC))
            client = CrmClient(agent.base)
            try:
                _submit(client, burst_receipts("warm", WARM_UP))
                wait_until(lambda: _drained(outbox), timeout_s=120, what="the warm-up")
                os.kill(sim.proc.pid, signal.SIGSTOP)
                start, switches, started = sample(pid), _switches(pid), time.perf_counter()
                _submit(client, burst_receipts("split", count))
                taken, taken_switches, accept_s = sample(pid), _switches(pid), time.perf_counter()
                os.kill(sim.proc.pid, signal.SIGCONT)
                wait_until(lambda: _drained(outbox), timeout_s=900, what="the backlog")
                done, done_switches, done_s = sample(pid), _switches(pid), time.perf_counter()
            finally:
                client.close()
                outbox.close()
        finally:
            agent.stop()
            sim.stop()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"intake: {(taken.cpu_s - start.cpu_s) * 1000 / count:.2f} ms CPU and"
        f" {(taken_switches - switches) / count:.1f} context switches per receipt,"
        f" {count / (accept_s - started):.0f}/s"
    )
    print(
        f"worker: {(done.cpu_s - taken.cpu_s) * 1000 / count:.2f} ms CPU and"
        f" {(done_switches - taken_switches) / count:.1f} context switches per receipt,"
        f" {count / (done_s - accept_s):.0f}/s (load average {load})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
