"""The receipts every run prints, and the two processes on a fresh zero-latency register."""

from __future__ import annotations

from pathlib import Path

from tests.support.payloads import receipt
from tests.support.processes import Agent, Simulator

__all__ = ["AGENT_ENV", "burst_receipts", "fresh_simulator", "new_agent", "receipt_body"]

AGENT_ENV = {"FISCAL_AGENT_LOG_LEVEL": "info"}
"""The production log level. The scenario tests' agent config says debug, which a measured run
must not use: an environment override wins over the file, as in a systemd unit."""


def receipt_body(request_id: str, kopecks: int) -> dict[str, object]:
    """A 2-item receipt paid in cash with change, as a CRM sends it."""
    chips = {"name": "Чипсы", "qty": "2", "price": "89.90", "vat": "vat22"}
    return receipt(request_id, kopecks, extra_cash=50_000, extra_items=[chips])


def burst_receipts(prefix: str, count: int) -> list[dict[str, object]]:
    """The burst's receipts; the bare driver prints the same ones under another prefix."""
    return [receipt_body(f"{prefix}-{i}", 20_000 + i) for i in range(count)]


def fresh_simulator(workdir: Path, name: str, *extra_args: str) -> Simulator:
    """firmware-sim on a new pty with a new state file, no print or answer delay."""
    workdir.mkdir(parents=True, exist_ok=True)
    return Simulator(state_file=workdir / f"{name}.db", extra_args=list(extra_args)).start()


def new_agent(workdir: Path, register_url: str) -> Agent:
    """The agent process (not started) with its state and its log file under ``workdir``.

    Its stdout and stderr go to ``workdir/agent.log``: a file, so that the log's writes count
    in the process's own disk bytes (under systemd, journald would write them instead).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    return Agent(workdir=workdir, register_url=register_url, env=dict(AGENT_ENV))
