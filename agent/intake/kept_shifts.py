"""Shift commands kept by id for adapters that answer their caller (the KkmServer API).

MQTT keeps its ``cmd/shift`` commands in :class:`~agent.outbox.shift_commands.ShiftCommands`
and answers by events (agent.intake.remote). A caller on the line (``POST /Execute``) wants
the answer in the reply, but the same rule holds: a command id runs on the register at most
once, whatever restarts happen; the same id again is answered from the table. The outcome and
the report are queued for the cloud as for MQTT's commands. The FN's calculation-state report
(KkmServer's ``OfdReport``) is kept the same way: it is an FN document, printed once per id.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from agent.contract import CommandOutcome, ErrorDetail, ShiftCommand, request_fingerprint
from agent.drivers.errors import DriverError
from agent.fiscal.errors import FiscalError
from agent.intake.remote import INTERRUPTED
from agent.intake.report_mapping import shift_report_json
from agent.outbox.codes import error_code
from agent.outbox.shift_commands import CommandState, Taking

if TYPE_CHECKING:
    import structlog

    from agent.drivers.interface import CalculationStateReport
    from agent.fiscal.reports import ShiftReportData
    from agent.intake.intake import Intake
    from agent.outbox.shift_commands import ShiftCommandRow, ShiftCommands

__all__ = ["STATE_REPORT_ACTION", "KeptShift", "KeptShifts", "KeptStateReport"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptShift:
    """A shift command's answer: how it was taken, its stored row, and the report if it ran now.

    ``error`` is the register's (or the line's) refusal when it failed now.
    """

    taking: Taking
    row: ShiftCommandRow
    report: ShiftReportData | None = None
    error: DriverError | FiscalError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptStateReport:
    """A calculation-state report command's answer, as :class:`KeptShift` for a shift."""

    taking: Taking
    row: ShiftCommandRow
    report: CalculationStateReport | None = None
    error: DriverError | FiscalError | None = None


STATE_REPORT_ACTION = "ofd_report"
"""The action a kept calculation-state report is stored under (table ``shift_commands``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ran(Generic[R]):
    taking: Taking
    row: ShiftCommandRow
    result: R | None = None
    error: DriverError | FiscalError | None = None


class KeptShifts:
    """Run a shift command (or a calculation-state report) once per id and keep its outcome."""

    def __init__(
        self,
        *,
        intake: Intake,
        commands: ShiftCommands,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._intake = intake
        self._commands = commands
        self._log = log.bind(component="kept_shifts")

    async def get(self, command_id: str) -> ShiftCommandRow | None:
        """The kept command with this id, if any."""
        return await asyncio.to_thread(self._commands.get, command_id)

    async def run(self, command: ShiftCommand) -> KeptShift:
        """Take ``command`` by its id; run it on the register only if the id is new."""
        assert command.id is not None, "a kept shift command has an id"
        command_id = command.id
        ran = await self._run(
            command_id,
            command.action,
            request_fingerprint(command),
            lambda: self._intake.shift(command, publish=False),
            lambda report: shift_report_json(report, request_id=command_id),
        )
        return KeptShift(taking=ran.taking, row=ran.row, report=ran.result, error=ran.error)

    async def run_state_report(self, command_id: str) -> KeptStateReport:
        """The FN's calculation-state report under ``command_id``: printed once per id.

        It is an FN document (an FD), so an id that printed one never prints another; an id
        the register refused runs again, as a shift command's does.
        """
        fingerprint = hashlib.sha256(f"{STATE_REPORT_ACTION}:{command_id}".encode()).hexdigest()
        ran = await self._run(
            command_id, STATE_REPORT_ACTION, fingerprint, self._intake.ofd_report, lambda _: None
        )
        return KeptStateReport(taking=ran.taking, row=ran.row, report=ran.result, error=ran.error)

    async def _run(
        self,
        command_id: str,
        action: str,
        fingerprint: str,
        operation: Callable[[], Awaitable[R]],
        report_json: Callable[[R], str | None],
    ) -> _Ran[R]:
        taking, row = await asyncio.to_thread(self._commands.take, command_id, action, fingerprint)
        log = self._log.bind(request_id=command_id, action=action)
        if taking is Taking.KNOWN and _refused(row):
            # The register refused it before: nothing was done, so it runs again (as KkmServer
            # runs an id again whose first result was an error).
            retaken = await asyncio.to_thread(self._commands.retake, command_id)
            if retaken is not None:
                log.info("taken_again", previous="failed")
                taking, row = Taking.NEW, retaken
        if taking is not Taking.NEW:
            log.info("duplicate", state=row.state.value, conflict=taking is Taking.CONFLICT)
            return _Ran(taking=taking, row=row)
        try:
            result = await operation()
        except (DriverError, FiscalError) as exc:
            log.warning("shift_command_failed", error=error_code(exc), reason=str(exc))
            outcome = CommandOutcome(
                id=command_id,
                status="failed",
                error=ErrorDetail(code=error_code(exc), message=str(exc)),
            )
            row = await asyncio.to_thread(
                self._commands.finish,
                command_id,
                state=CommandState.FAILED,
                outcome=outcome.model_dump(mode="json", exclude_none=True),
            )
            return _Ran(taking=taking, row=row, error=exc)
        row = await asyncio.to_thread(
            self._commands.finish,
            command_id,
            state=CommandState.DONE,
            outcome=CommandOutcome(id=command_id, status="done").model_dump(
                mode="json", exclude_none=True
            ),
            report=report_json(result),
        )
        log.info("shift_command_done")
        return _Ran(taking=taking, row=row, result=result)


def _refused(row: ShiftCommandRow) -> bool:
    """Failed with the register's refusal, not interrupted (the register may have run it)."""
    if row.state is not CommandState.FAILED or row.outcome is None:
        return False
    error = row.outcome.get("error") or {}
    return error.get("code") != INTERRUPTED
