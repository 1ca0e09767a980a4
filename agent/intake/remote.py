"""Commands that arrive with nobody waiting on the line (MQTT): every outcome becomes an event.

The local HTTP API answers its caller; a command from the broker is answered by what the agent
publishes. This is the intake's side of that: it takes a decoded payload through the same
:class:`~agent.intake.Intake` as every other way in, and turns what happens into entries of the
durable sync queue, committed before the caller acknowledges the message:

- a new request is committed to the outbox (its result is queued when it is final);
- the same request again: a final row's result is queued again (the CRM asked again), a row
  still being printed answers when it is final; a ``failed`` one is taken again;
- bad input with a readable id the agent does not know: a ``rejected`` ReceiptResult (or
  command outcome) under that id;
- bad input without a readable id, or a known id with other content: ``evt/rejected`` naming
  the topic, the id if any, and the reason; the id's own result is never replaced;
- no room (the outbox is full, the disk is full or failing): :attr:`Answer.NO_ROOM`, nothing
  stored, and the adapter must not acknowledge (the broker delivers it again later).

Shift commands (``cmd/shift``) need an id here; they are kept by it (a redelivered ``close``
never closes a later shift), taken before the acknowledgement and run on the register right
after, their report and outcome queued together.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from pydantic import TypeAdapter, ValidationError

from agent.contract import (
    CommandOutcome,
    ErrorDetail,
    ReceiptResult,
    RejectedCommand,
    RequestId,
    ShiftCommand,
    request_fingerprint,
)
from agent.intake.errors import IdConflict, InvalidRequest, OutboxFull, RequestNotFound
from agent.intake.intake import validate
from agent.intake.report_mapping import shift_report_json
from agent.outbox.codes import error_code
from agent.outbox.shift_commands import CommandState, ShiftCommandRow, Taking
from agent.outbox.states import RowKind
from agent.outbox.store import StorageUnavailable
from agent.outbox.sync_queue import SyncTopic

if TYPE_CHECKING:
    import structlog

    from agent.fiscal.reports import ShiftReportData
    from agent.intake.intake import Intake, Submitted
    from agent.intake.tape_sync import TapeSync
    from agent.outbox.shift_commands import ShiftCommands
    from agent.outbox.sync_queue import SyncQueue

__all__ = ["Answer", "RemoteIntake"]

INTERRUPTED: Final = "interrupted"
INTERRUPTED_MESSAGE: Final = (
    "the agent stopped while the register ran this shift command; check the register's shift"
    " and send the command again under a new id if it is still needed"
)

_REQUEST_ID: Final = TypeAdapter(RequestId)


class Answer(Enum):
    """What the adapter does with the message."""

    TAKEN = "taken"  # committed (or answered): acknowledge it
    NO_ROOM = "no_room"  # nothing stored: do not acknowledge; reconnect later


class RemoteIntake:
    """The intake for commands from the broker."""

    def __init__(
        self,
        *,
        intake: Intake,
        queue: SyncQueue,
        commands: ShiftCommands,
        tape: TapeSync,
        clock: Callable[[], datetime],
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._intake = intake
        self._queue = queue
        self._commands = commands
        self._tape = tape
        self._clock = clock
        self._log = log.bind(component="remote_intake")
        self._running: set[asyncio.Task[None]] = set()

    # -- what the adapter could not even decode -------------------------------------------

    async def undecodable(self, topic: str, code: str, message: str) -> Answer:
        """A payload the adapter could not read (not JSON, too large, a topic not served)."""
        self._log.warning("command_refused", topic=topic, error=code, reason=message)
        return await self._reject(topic, None, code, message)

    # -- receipts and cash ----------------------------------------------------------------

    async def receipt(self, topic: str, data: object) -> Answer:
        """``cmd/receipt``: a ReceiptRequest as decoded from JSON."""
        return await self._submit(topic, data, self._intake.submit_receipt, RowKind.RECEIPT)

    async def cash(self, topic: str, data: object) -> Answer:
        """``cmd/cash``: a CashCommand as decoded from JSON."""
        return await self._submit(topic, data, self._intake.submit_cash, RowKind.CASH)

    async def _submit(
        self,
        topic: str,
        data: object,
        submit: Callable[[object], Awaitable[Submitted]],
        kind: RowKind,
    ) -> Answer:
        try:
            submitted = await submit(data)
        except (OutboxFull, StorageUnavailable) as exc:
            self._log.warning("no_room", topic=topic, error=error_code(exc))
            return Answer.NO_ROOM
        except IdConflict as exc:
            return await self._reject(topic, exc.request_id, exc.public_code, str(exc))
        except InvalidRequest as exc:
            return await self._refuse_invalid(topic, data, exc, kind)
        if not submitted.is_new and submitted.row.state.is_final:
            # Asked again for a final request: answer again, the same content as before.
            try:
                await asyncio.to_thread(self._queue.put_row, submitted.row.id, kind)
            except StorageUnavailable:
                return Answer.NO_ROOM
        return Answer.TAKEN

    async def _refuse_invalid(
        self, topic: str, data: object, exc: InvalidRequest, kind: RowKind
    ) -> Answer:
        request_id = readable_id(data)
        message = f"{exc} (field {exc.field})" if exc.field else str(exc)
        self._log.info(
            "command_refused",
            topic=topic,
            request_id=request_id,
            error=exc.public_code,
            field=exc.field,
        )
        if request_id is None or await self._is_known(request_id):
            return await self._reject(topic, request_id, exc.public_code, message)
        error = ErrorDetail(code=exc.public_code, message=message)
        if kind is RowKind.RECEIPT:
            result = ReceiptResult(id=request_id, status="rejected", error=error)
            body = result.model_dump_json(exclude_none=True)
            topic_out = SyncTopic.RECEIPT
        else:
            outcome = CommandOutcome(id=request_id, status="rejected", error=error)
            body = outcome.model_dump_json(exclude_none=True)
            topic_out = SyncTopic.COMMAND
        return await self._put(topic_out, body)

    async def _is_known(self, request_id: str) -> bool:
        try:
            await self._intake.row(request_id)
        except RequestNotFound:
            return await asyncio.to_thread(self._commands.get, request_id) is not None
        return True

    # -- shift commands -------------------------------------------------------------------

    async def shift(self, topic: str, data: object) -> Answer:
        """``cmd/shift``: take the command by its id, then run it on the register."""
        try:
            command = validate(ShiftCommand, data)
        except InvalidRequest as exc:
            return await self._reject(topic, readable_id(data), exc.public_code, str(exc))
        if command.id is None:
            return await self._reject(
                topic, None, "invalid_request", "a shift command over MQTT needs an id (field id)"
            )
        try:
            return await self._take_shift(topic, command, command.id)
        except StorageUnavailable:
            return Answer.NO_ROOM

    async def _take_shift(self, topic: str, command: ShiftCommand, command_id: str) -> Answer:
        taking, row = await asyncio.to_thread(
            self._commands.take, command_id, command.action, request_fingerprint(command)
        )
        log = self._log.bind(request_id=command_id, action=command.action)
        if taking is Taking.CONFLICT:
            message = f"shift command {command_id} is known with other content"
            return await self._reject(topic, command_id, "id_conflict", message)
        if taking is Taking.KNOWN:
            log.info("duplicate", state=row.state.value)
            if row.state is not CommandState.RUNNING:
                await asyncio.to_thread(self._commands.republish, row)
            return Answer.TAKEN
        log.info("accepted", kind="shift")
        task = asyncio.create_task(self._run_shift(command), name=f"shift[{command_id}]")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return Answer.TAKEN

    async def _run_shift(self, command: ShiftCommand) -> None:
        assert command.id is not None
        log = self._log.bind(request_id=command.id, action=command.action)
        report: str | None = None
        try:
            report = await self._execute(command)
        except asyncio.CancelledError:
            raise  # left running: settled as interrupted at the next start
        except Exception as exc:  # noqa: BLE001 - every failure becomes the command's outcome
            log.warning("shift_command_failed", error=error_code(exc), reason=str(exc))
            state = CommandState.FAILED
            outcome = CommandOutcome(
                id=command.id,
                status="failed",
                error=ErrorDetail(code=error_code(exc), message=str(exc)),
            )
        else:
            state = CommandState.DONE
            outcome = CommandOutcome(id=command.id, status="done")
            log.info("shift_command_done")
        try:
            await asyncio.to_thread(
                self._commands.finish,
                command.id,
                state=state,
                outcome=outcome.model_dump(mode="json", exclude_none=True),
                report=report,
            )
        except StorageUnavailable as exc:
            log.error("shift_outcome_not_stored", error=str(exc))  # noqa: TRY400 - no traceback: the disk is the cause

    async def _execute(self, command: ShiftCommand) -> str | None:
        """Run the command; the report to queue with its outcome (none for ``sync_tape``)."""
        if command.action == "sync_tape":
            await self._tape.sync()
            return None
        data = await self._intake.shift(command, publish=False)
        return shift_report_json(data, request_id=command.id)

    def after_z(self, report: ShiftReportData) -> None:
        """Read the closed shift's tape for documents the agent did not print, in the background.

        Called for every Z, the guard's and commanded ones, right after it (the register is
        still held then, so it runs as its own task).
        """
        task = asyncio.create_task(self._sync_after_z(report), name=f"tape[{report.shift}]")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _sync_after_z(self, report: ShiftReportData) -> None:
        try:
            await self._tape.sync(report)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a tape that cannot be read now is read at the next sync_tape
            self._log.warning(
                "tape_sync_failed", shift=report.shift, error=error_code(exc), reason=str(exc)
            )

    async def settle_interrupted(self) -> None:
        """At start: shift commands a crash left running are answered ``failed``."""

        def outcome(row: ShiftCommandRow) -> dict[str, Any]:
            error = ErrorDetail(code=INTERRUPTED, message=INTERRUPTED_MESSAGE)
            outcome = CommandOutcome(id=row.id, status="failed", error=error)
            return outcome.model_dump(mode="json", exclude_none=True)

        for row in await asyncio.to_thread(self._commands.settle_interrupted, outcome):
            self._log.warning("shift_command_interrupted", request_id=row.id, action=row.action)

    async def close(self) -> None:
        """Cancel shift commands still running (they are settled at the next start)."""
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- queueing -------------------------------------------------------------------------

    async def _reject(self, topic: str, request_id: str | None, code: str, message: str) -> Answer:
        body = RejectedCommand(
            topic=topic, id=request_id, code=code, message=message, at=self._clock()
        ).model_dump_json(exclude_none=True)
        return await self._put(SyncTopic.REJECTED, body)

    async def _put(self, topic: SyncTopic, body: str) -> Answer:
        try:
            await asyncio.to_thread(self._queue.put, topic, body, droppable=True)
        except StorageUnavailable:
            return Answer.NO_ROOM
        return Answer.TAKEN


def readable_id(data: object) -> str | None:
    """The payload's ``id`` when it is a well-formed request id, else None."""
    if not isinstance(data, dict):
        return None
    value = data.get("id")
    if not isinstance(value, str):
        return None
    try:
        return _REQUEST_ID.validate_python(value)
    except ValidationError:
        return None
