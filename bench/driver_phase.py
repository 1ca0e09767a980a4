"""The bare driver: ShtrihDriver in the benchmark's own process, no outbox, no HTTP, no worker.

The driver is built from the agent's own config file, the way agent/app.py builds it, and
logs at info as JSON lines to a file, as the agent does; it connects, opens a shift, then
registers the burst's receipts one after another. Its CPU is the benchmark process's own
(time.process_time around the loop): nothing else runs in the process meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import structlog

from agent.config import AgentConfig, load_config
from agent.contract import ReceiptRequest
from agent.domain.receipt import Cashier, Receipt
from agent.drivers.factory import build_driver
from agent.drivers.interface import ReceiptRef
from agent.intake.receipt_mapping import receipt_to_domain
from bench.wire import WireCount, WireMeter
from bench.workload import AGENT_ENV, burst_receipts, fresh_simulator, new_agent

__all__ = ["DriverRun", "run_driver"]


@dataclass(frozen=True, slots=True)
class DriverRun:
    """What one bare-driver run measured."""

    receipts: int
    wall_s: float
    cpu_s: float
    wire: WireCount


def _json_log(stream: TextIO) -> structlog.typing.FilteringBoundLogger:
    """An info-level JSON logger on ``stream``, with agent/logging_setup.py's processors."""
    logger: structlog.typing.FilteringBoundLogger = structlog.wrap_logger(
        structlog.PrintLogger(file=stream),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return logger


async def _print(
    config: AgentConfig,
    log: structlog.typing.FilteringBoundLogger,
    receipts: list[Receipt],
    ids: list[str],
    meter: WireMeter,
) -> DriverRun:
    driver = build_driver(config, log)
    try:
        await driver.connect()
        await driver.open_shift(Cashier(name=config.cashier.name, inn=config.cashier.inn))
        await asyncio.to_thread(meter.settle)
        wire_start = meter.mark()
        started, cpu_started = time.perf_counter(), time.process_time()
        for receipt, request_id in zip(receipts, ids, strict=True):
            await driver.register(
                receipt, ref=ReceiptRef(id=request_id, mark=request_id, attempt=1)
            )
        wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        wire = await asyncio.to_thread(meter.since, wire_start)
    finally:
        await driver.aclose()
    return DriverRun(receipts=len(receipts), wall_s=wall_s, cpu_s=cpu_s, wire=wire)


def run_driver(workdir: Path, *, count: int, sim_args: tuple[str, ...] = ()) -> DriverRun:
    """Print ``count`` burst receipts straight through the driver on a fresh simulator."""
    sim = fresh_simulator(workdir, "driver-register", *sim_args)
    try:
        # The agent's config for this register: same register settings, tax and cashier.
        config_path = new_agent(workdir / "driver", sim.url).write_config()
        config = load_config(config_path, AGENT_ENV)
        bodies = burst_receipts("driver", count)
        receipts = [
            receipt_to_domain(ReceiptRequest.model_validate(body), config=config) for body in bodies
        ]
        ids = [str(body["id"]) for body in bodies]
        meter = WireMeter(sim, logs_frames=bool(sim_args))
        with (workdir / "driver" / "driver.log").open("a") as stream:
            run = asyncio.run(_print(config, _json_log(stream), receipts, ids, meter))
    finally:
        sim.stop()
    on_tape = sum(1 for doc in sim.tape() if doc["type"] == "receipt")
    assert on_tape == count, f"the driver printed {on_tape} receipts of {count}"
    return run
