"""The agent's core in one process: intake, outbox, worker and service over the fake-link register.

The register is the simulator's pure device behind the real Shtrih driver and link state
machine (``tests.support.shtrih_rig``); the outbox is a real SQLite file. Fast enough for
unit tests of the worker, the intake and the HTTP routes, with nothing mocked. Health and
metrics are wired as the composition root wires them (``agent.app.Agent``), with no broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer

from agent.adapters.http.routes import HttpDeps, build_app
from agent.adapters.metrics import AgentMetrics
from agent.app import Agent
from agent.config import AgentConfig, load_config
from agent.contract import Health
from agent.domain.receipt import Cashier
from agent.drivers.shtrih.driver import ShtrihDriver
from agent.drivers.shtrih.params import DEFAULT_TAX_RATE_INDEX
from agent.fiscal.service import FiscalService
from agent.fiscal.shift_guard import ShiftPolicy
from agent.intake import Intake
from agent.outbox.shift_commands import ShiftCommands
from agent.outbox.store import DEFAULT_MAX_PENDING, Outbox
from agent.outbox.sync_queue import SyncQueue
from agent.outbox.worker import FiscalWorker, WorkerParams
from agent.transport import Transport, TransportParams
from firmware_sim.state import MSK
from tests.support.shtrih_rig import FAST, Rig, make_rig

__all__ = ["FAST_WORKER", "AgentRig", "agent_rig", "api_without_register", "host_now"]

CONFIG = """
club = "club-1"
agent = "desk-1"
state_dir = "{state}"
[register]
url = "socket://127.0.0.1:1"
tz = "Europe/Moscow"
[tax]
top_up = "usn_income"
service = "usn_income"
goods = "{goods_tax}"
[cashier]
name = "Администратор"
"""

FAST_WORKER = WorkerParams(
    retry_initial_s=0.01, retry_max_s=0.05, retry_attempts=2, wait_poll_s=0.05, idle_tick_s=0.2
)


def host_now() -> datetime:
    """The host's clock."""
    return datetime.now(UTC)


@dataclass
class AgentRig:
    """Every part of one agent, wired as the composition root wires them."""

    config: AgentConfig
    register: Rig
    outbox: Outbox
    service: FiscalService
    worker: FiscalWorker
    intake: Intake
    client: TestClient[Any, Any]
    metrics: AgentMetrics


@asynccontextmanager
async def agent_rig(
    tmp_path: Path,
    *,
    params: WorkerParams = FAST_WORKER,
    clock: Callable[[], datetime] = host_now,
    register_tz: tzinfo = MSK,
    configured_tz: tzinfo | None = MSK,
) -> AsyncIterator[AgentRig]:
    """An agent over a fresh register (shift closed) and an empty outbox; closed at the end.

    ``register_tz`` is the zone the simulated register keeps its clock in; ``configured_tz``
    the driver's ``[register] tz`` (None: "auto", measured at connect).
    """
    config = _config(tmp_path)
    log = structlog.get_logger("test")
    metrics = AgentMetrics()
    register = make_rig(
        tz=register_tz, params=replace(FAST, tz=configured_tz), on_round_trip=metrics.round_trip
    )
    outbox = Outbox(tmp_path / "agent.sqlite3", clock=clock)
    outbox.add_result_listener(metrics.receipt_result)
    service = FiscalService(
        driver=register.driver,
        policy=ShiftPolicy(),
        cashier=Cashier(name="Админ"),
        tax_rows=DEFAULT_TAX_RATE_INDEX,
        log=log,
        shift_change=outbox.shift_change,
    )
    worker = FiscalWorker(
        outbox=outbox,
        service=service,
        params=params,
        log=log,
        clock=clock,
        on_error=metrics.register_error,
    )
    intake = Intake(config=config, outbox=outbox, worker=worker, log=log)
    agent = Agent(
        config=config,
        outbox=outbox,
        queue=SyncQueue(outbox, clock=clock),
        commands=ShiftCommands(outbox),
        boot=outbox.next_boot(),
        after_z=[],
        service=service,
        worker=worker,
        log=log,
        started_monotonic=time.monotonic(),
        metrics=metrics,
    )
    client = await _serve(intake, outbox, health=agent.health, metrics=metrics)
    try:
        yield AgentRig(
            config=config,
            register=register,
            outbox=outbox,
            service=service,
            worker=worker,
            intake=intake,
            client=client,
            metrics=metrics,
        )
    finally:
        await client.close()
        await service.close()
        outbox.close()


def _config(tmp_path: Path, *, goods_tax: str = "usn_income") -> AgentConfig:
    config_file = tmp_path / "agent.toml"
    config_file.write_text(CONFIG.format(state=tmp_path, goods_tax=goods_tax))
    return load_config(config_file, {})


async def _health() -> Health:
    return Health(state="online")


async def _serve(
    intake: Intake,
    outbox: Outbox,
    *,
    health: Callable[[], Awaitable[Health]] = _health,
    metrics: AgentMetrics | None = None,
) -> TestClient[Any, Any]:
    log = structlog.get_logger("test")
    deps = HttpDeps(intake=intake, outbox=outbox, health=health, log=log)
    app = build_app(deps if metrics is None else replace(deps, metrics=metrics))
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@asynccontextmanager
async def api_without_register(
    tmp_path: Path, *, register_url: str, max_pending: int = DEFAULT_MAX_PENDING
) -> AsyncIterator[tuple[TestClient[Any, Any], Outbox]]:
    """The local HTTP API over a real outbox and a real driver whose register never answers.

    Goods are taxed ``osn`` here, so a test can tell the configured tax system was applied.
    """
    config = _config(tmp_path, goods_tax="osn")
    log = structlog.get_logger("test")
    outbox = Outbox(tmp_path / "agent.sqlite3", clock=host_now, max_pending=max_pending)
    driver = ShtrihDriver(transport=Transport(params=TransportParams(url=register_url)), log=log)
    service = FiscalService(
        driver=driver,
        policy=ShiftPolicy(),
        cashier=Cashier(name="A"),
        tax_rows=DEFAULT_TAX_RATE_INDEX,
        log=log,
    )
    worker = FiscalWorker(
        outbox=outbox, service=service, params=WorkerParams(), log=log, clock=host_now
    )
    client = await _serve(Intake(config=config, outbox=outbox, worker=worker, log=log), outbox)
    try:
        yield client, outbox
    finally:
        await client.close()
        await service.close()
        outbox.close()


async def until(
    predicate: Callable[[], Any], *, timeout_s: float = 10.0, interval_s: float = 0.01
) -> Any:
    """Poll until ``predicate()`` is truthy and return its value; fail after the deadline."""
    async with asyncio.timeout(timeout_s):
        while not (value := predicate()):
            await asyncio.sleep(interval_s)
        return value


@asynccontextmanager
async def running_agent(
    tmp_path: Path, *, params: WorkerParams = FAST_WORKER, wait_ready: bool = False
) -> AsyncIterator[AgentRig]:
    """:func:`agent_rig` with a shift open and its worker running; the worker is stopped after.

    ``wait_ready``: wait for the worker's first snapshot (its first look at the register).
    """
    async with agent_rig(tmp_path, params=params) as made:
        await made.service.connect()
        await made.service.open_shift()
        task = asyncio.create_task(made.worker.run(), name="worker")
        try:
            if wait_ready:
                await until(lambda: made.worker.snapshot)
            yield made
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):  # the worker ran until cancelled
                await task
