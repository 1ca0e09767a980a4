"""The composition root: builds the agent from its config and runs it until told to stop.

The only module that creates concrete classes and owns the root ``asyncio.TaskGroup``
(docs/style.md §1). Tasks: the fiscal worker, the local HTTP API, the MQTT link (commands in,
the sync queue and health out), outbox housekeeping, the systemd watchdog and its status line.
The agent runs fully, and prints, with no MQTT broker reachable: what it owes the cloud waits in
the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from agent.adapters.http.routes import HttpDeps, build_app
from agent.adapters.kkmserver.executor import Executor, ExecutorParams
from agent.adapters.kkmserver.requests import TAX_VARIANTS
from agent.adapters.kkmserver.results import UnitFacts
from agent.adapters.kkmserver.routes import Credentials, build_kkmserver_app
from agent.adapters.metrics import AgentMetrics
from agent.adapters.mqtt.service import MqttAdapter
from agent.adapters.systemd_notify import SystemdNotifier, ping_watchdog
from agent.adapters.systemd_status import report_status
from agent.domain.receipt import Cashier
from agent.drivers.factory import build_driver, tax_rows
from agent.fiscal.reports import ReportKind
from agent.fiscal.service import FiscalService
from agent.fiscal.shift_guard import ShiftPolicy
from agent.intake import Intake
from agent.intake.kept_shifts import KeptShifts
from agent.intake.remote import RemoteIntake
from agent.intake.report_mapping import HealthInputs, health_to_contract, shift_report_json
from agent.intake.tape_sync import TapeSync
from agent.outbox.shift_commands import ShiftCommands
from agent.outbox.states import RowState
from agent.outbox.store import Outbox, OutboxError, StorageUnavailable
from agent.outbox.sync_queue import SyncQueue, SyncTopic
from agent.outbox.worker import FiscalWorker, WorkerParams

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.config import AgentConfig
    from agent.contract import Health
    from agent.fiscal.reports import ShiftReportData
    from mqtt_link.link import MqttLink

__all__ = [
    "HEALTH_REFRESH_TIMEOUT_S",
    "HOUSEKEEPING_INTERVAL_S",
    "Agent",
    "build_driver",
    "run_agent",
    "tax_rows",
]

HOUSEKEEPING_INTERVAL_S = 3600.0
"""How often final, delivered outbox rows past their retention are pruned."""
HEALTH_REFRESH_TIMEOUT_S = 2.0
"""How long a health request may wait to read the register between operations."""
HEALTH_SNAPSHOT_MAX_AGE_S = 2.0
"""A snapshot younger than this answers health as it is: a monitor polling every second
must not keep the register busy."""

HEALTH_UNKNOWN_IDS = 20
"""How many unknown rows health names (the newest; the count covers all of them)."""


def _now() -> datetime:
    return datetime.now(UTC)


def agent_version() -> str:
    """The installed distribution's version."""
    try:
        return version("fiscal-edge")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(slots=True)
class Agent:
    """The running parts of one agent, wired together."""

    config: AgentConfig
    outbox: Outbox
    queue: SyncQueue
    commands: ShiftCommands
    boot: int
    after_z: list[Callable[[ShiftReportData], None]]  # listeners for every Z, once wired
    service: FiscalService
    worker: FiscalWorker
    log: structlog.typing.FilteringBoundLogger
    started_monotonic: float  # uptime counts on the monotonic clock: the host's may jump
    metrics: AgentMetrics
    broker_link: MqttLink | None = None  # set once the MQTT adapter is built

    @classmethod
    def build(cls, config: AgentConfig, log: structlog.typing.FilteringBoundLogger) -> Agent:
        """Create every concrete part from the config."""
        metrics = AgentMetrics()
        # First: a protocol this build lacks is a configuration error before anything opens.
        driver = build_driver(config, log, metrics.round_trip)
        config.state_dir.mkdir(parents=True, exist_ok=True)
        outbox = Outbox(
            config.database_path,
            clock=_now,
            max_pending=config.outbox.max_pending,
            retention=config.outbox.retention,
        )
        queue = SyncQueue(outbox, clock=_now)
        outbox.add_result_listener(metrics.receipt_result)

        after_z: list[Callable[[ShiftReportData], None]] = []

        def on_report(report: ShiftReportData) -> None:
            if report.kind is ReportKind.Z:
                for listener in after_z:
                    listener(report)
            # The guard's own opens and Zs; a commanded report is queued by its command.
            if not report.auto:
                return
            try:
                queue.put(SyncTopic.SHIFT, shift_report_json(report))
            except StorageUnavailable as exc:
                log.error("shift_report_not_queued", shift=report.shift, error=str(exc))  # noqa: TRY400 - the disk is the cause

        service = FiscalService(
            driver=driver,
            policy=ShiftPolicy(
                max_age=config.shift.max_age,
                quiet_hour=config.shift.quiet_hour,
                margin=config.shift.guard_margin,
            ),
            cashier=Cashier(name=config.cashier.name, inn=config.cashier.inn),
            tax_rows=tax_rows(config),
            log=log,
            on_report=on_report,
            shift_change=outbox.shift_change,
        )
        worker = FiscalWorker(
            outbox=outbox,
            service=service,
            params=WorkerParams(
                retry_initial_s=config.worker.retry_initial_s,
                retry_max_s=config.worker.retry_max_s,
                retry_attempts=config.worker.retry_attempts,
                idle_tick_s=config.worker.idle_check_s,
                late=config.receipts.late,
            ),
            log=log,
            clock=_now,
            on_error=metrics.register_error,
        )
        return cls(
            config=config,
            outbox=outbox,
            queue=queue,
            commands=ShiftCommands(outbox),
            boot=outbox.next_boot(),
            after_z=after_z,
            service=service,
            worker=worker,
            log=log,
            started_monotonic=time.monotonic(),
            metrics=metrics,
        )

    async def health(self) -> Health:
        """Health now: refresh the register snapshot if the register is free."""
        worker = self.worker
        taken = worker.snapshot_at
        is_stale = (
            worker.is_snapshot_stale
            or taken is None
            or (_now() - taken).total_seconds() > HEALTH_SNAPSHOT_MAX_AGE_S
        )
        if is_stale and not worker.register_lock.locked():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(HEALTH_REFRESH_TIMEOUT_S):
                    await worker.refresh_snapshot()
        stats = await asyncio.to_thread(self.outbox.stats)
        sync = await asyncio.to_thread(self.queue.stats)
        unknown_ids: tuple[str, ...] = ()
        if stats.unknown:
            rows = await asyncio.to_thread(
                self.outbox.list, state=RowState.UNKNOWN, limit=HEALTH_UNKNOWN_IDS
            )
            unknown_ids = tuple(row.id for row in rows)
        return health_to_contract(
            HealthInputs(
                version=agent_version(),
                uptime_s=time.monotonic() - self.started_monotonic,
                now=_now(),
                is_link_up=worker.is_link_up,
                snapshot=worker.snapshot,
                snapshot_at=worker.snapshot_at,
                condition=worker.condition,
                last_error=worker.last_error,
                line=worker.line,
                unknown_ids=unknown_ids,
                outbox=stats,
                sync_pending=sync.pending,
                sync_oldest_age_s=sync.oldest_pending_age_s,
                is_broker_up=None if self.broker_link is None else self.broker_link.is_connected,
                rotate_at=self.service.policy.rotate_at,
            )
        )

    async def housekeeping(self) -> None:
        """Prune final, delivered rows past their retention, once an hour."""
        while True:
            try:
                pruned = await asyncio.to_thread(self.outbox.prune)
            except OutboxError as exc:  # a full or read-only disk: try again next hour
                self.log.warning("outbox_prune_failed", error=str(exc))
                pruned = 0
            if pruned:
                self.log.info("outbox_pruned", rows=pruned)
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)


async def run_agent(config: AgentConfig, *, notifier: SystemdNotifier | None = None) -> None:
    """Run the agent until SIGTERM or SIGINT."""
    log: structlog.typing.FilteringBoundLogger = structlog.get_logger("fiscal-agent").bind(
        club=config.club, agent=config.agent
    )
    notifier = notifier or SystemdNotifier()
    agent = Agent.build(config, log)
    intake = Intake(
        config=config,
        outbox=agent.outbox,
        worker=agent.worker,
        log=log,
        queue=agent.queue,
        country=config.profile,
    )
    tape = TapeSync(worker=agent.worker, outbox=agent.outbox, queue=agent.queue, log=log)
    remote = RemoteIntake(
        intake=intake,
        queue=agent.queue,
        commands=agent.commands,
        tape=tape,
        clock=_now,
        log=log,
    )
    agent.after_z.append(remote.after_z)
    await remote.settle_interrupted()
    mqtt = MqttAdapter(
        config=config,
        boot=agent.boot,
        remote=remote,
        queue=agent.queue,
        outbox=agent.outbox,
        health=agent.health,
        log=log,
    )
    agent.broker_link = mqtt.link
    app = build_app(
        HttpDeps(
            intake=intake, outbox=agent.outbox, health=agent.health, log=log, metrics=agent.metrics
        )
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.http.host, config.http.port)
    await site.start()
    kkm_runner, kkm = await _start_kkmserver(config, agent, intake, log)
    await mqtt.start()
    log.info(
        "agent_started",
        http=config.http.listen,
        register=config.register_address,
        mqtt=config.mqtt.url,
        boot=agent.boot,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(agent.worker.run(), name=f"agent[{config.agent}].worker"),
                group.create_task(agent.housekeeping(), name=f"agent[{config.agent}].housekeeping"),
                group.create_task(ping_watchdog(notifier), name=f"agent[{config.agent}].watchdog"),
                group.create_task(
                    report_status(notifier, agent.health, log),
                    name=f"agent[{config.agent}].status",
                ),
            ]
            # Ready with the outbox open and the listeners up: the register and the broker are
            # reached in the background, so a switched-off register never holds the start.
            notifier.notify("READY=1")
            await stop.wait()
            log.info("agent_stopping")
            notifier.notify("STOPPING=1\nSTATUS=stopping")
            for task in tasks:
                task.cancel()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await remote.close()
        await mqtt.stop()
        if kkm is not None and kkm_runner is not None:
            await kkm.close()
            await kkm_runner.cleanup()
        await runner.cleanup()
        await agent.service.close()
        await asyncio.to_thread(agent.outbox.close)
        log.info("agent_stopped")


async def _start_kkmserver(
    config: AgentConfig, agent: Agent, intake: Intake, log: structlog.typing.FilteringBoundLogger
) -> tuple[web.AppRunner | None, Executor | None]:
    """The KkmServer-compatible API when ``[kkmserver]`` is configured (docs/kkmserver.md)."""
    section = config.kkmserver
    if section is None:
        return None, None
    names = {name: code for code, name in TAX_VARIANTS.items()}
    tax = config.tax  # None where the country has no tax systems: no TaxVariant matches
    systems: dict[str, str] = (
        {} if tax is None else {"top_up": tax.top_up, "service": tax.service, "goods": tax.goods}
    )
    executor = Executor(
        intake=intake,
        shifts=KeptShifts(intake=intake, commands=agent.commands, log=log),
        health=agent.health,
        params=ExecutorParams(
            queue_limit=section.queue_limit,
            tax_systems=systems,
            shift_errors_ok=section.shift_already_open_ok,
            facts=UnitFacts(
                unit_name=f"{config.club}/{config.agent}",
                tax_variants=",".join(sorted({names[name] for name in systems.values()})),
                cash_in_drawer=None,
                zone=config.register.zone,
                version=agent_version(),
            ),
        ),
        log=log,
    )
    await executor.start()
    app = build_kkmserver_app(
        executor,
        Credentials(section.login, section.password.get_secret_value()),
        agent_version(),
        log,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, section.host, section.port).start()
    log.info(
        "kkmserver_started", listen=section.listen, open=not section.password.get_secret_value()
    )
    return runner, executor
