"""The agent against the bare driver it wraps, on a zero-latency register.

firmware-sim runs on a pseudo-terminal with no print or answer delay, so the register costs
next to nothing and what is left is the agent's own overhead. One run measures:

- the agent, as deployed (its own process, log level info, its log going to a file):
  sequential receipts (submit one through the local HTTP API, wait until done) for the p50
  and p99 from commit to done, then a burst (submit N, wait until all are done) for the
  rate (N / drain time), its CPU and disk writes per receipt (/proc/<pid>), its RSS after
  the burst, then its CPU with no work for ``--idle-s`` seconds;
- the bare driver on a fresh simulator: ShtrihDriver in this process printing the same
  receipts one after another, for its rate, time and CPU per receipt;
- register round trips per receipt for both, from the simulator's link counters;
- bytes on the wire per receipt for both, from a separate short run with the simulator
  logging every frame (debug); the measured runs never log at debug.

    .venv/bin/python bench/agent_receipts.py [--sequential 200] [--burst 1000] [--idle-s 10]
        [--new-connection-per-request]

The CRM's receipts go on one kept-alive HTTP connection, as a CRM's HTTP client sends them
(bench/crm_client.py); ``--new-connection-per-request`` opens one for each, as before.

The last line of stdout is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agent_phase import AgentRun, run_agent
from bench.driver_phase import DriverRun, run_driver
from bench.report import Report, print_report
from bench.wire import DEBUG_ARGS

WIRE_SAMPLE = 20
"""Receipts in each short run that counts bytes on the wire."""


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=200, metavar="N")
    parser.add_argument("--burst", type=int, default=1000, metavar="N")
    parser.add_argument("--idle-s", type=float, default=10.0, metavar="S")
    parser.add_argument(
        "--new-connection-per-request",
        action="store_true",
        help="send each receipt on a new TCP connection (default: one kept-alive connection)",
    )
    args = parser.parse_args()
    if args.burst < 1 or args.sequential < 0 or args.idle_s < 0:
        parser.error("--burst must be at least 1; --sequential and --idle-s not negative")
    return args


def _problems(agent: AgentRun, driver: DriverRun, expected: int) -> list[str]:
    problems = []
    if agent.receipts_on_tape != expected:
        problems.append(f"FN tape: {agent.receipts_on_tape} receipts for {expected} requests")
    if agent.debug_records:
        problems.append(f"the agent logged {agent.debug_records} debug records")
    if not (agent.wire.is_clean and driver.wire.is_clean):
        problems.append("resends, bad frames or timeouts on a clean line")
    return problems


def main() -> int:
    args = _args()
    print("register: firmware-sim on a pty, zero latency; receipts of 2 items, cash with change")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        agent = run_agent(
            workdir / "measured",
            sequential=args.sequential,
            burst=args.burst,
            idle_s=args.idle_s,
            keep_alive=not args.new_connection_per_request,
        )
        driver = run_driver(workdir / "measured", count=args.burst)
        sample = min(WIRE_SAMPLE, args.burst)
        agent_wire = run_agent(
            workdir / "wire", sequential=0, burst=sample, idle_s=0, sim_args=DEBUG_ARGS
        )
        driver_wire = run_driver(workdir / "wire", count=sample, sim_args=DEBUG_ARGS)
    print_report(Report(agent=agent, driver=driver, agent_wire=agent_wire, driver_wire=driver_wire))
    problems = _problems(agent, driver, args.sequential + args.burst)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
