"""The fiscal worker: gets each accepted outbox row exactly one fiscal document.

Whatever fails in between: the worker takes accepted rows from the outbox one at a time.

One worker per register, one operation on the register at a time (``register_lock``; the
HTTP adapter's shift and report commands take the same lock). For each row:

1. ``prepare_receipt`` (cancel a stray open receipt, run the shift guard, read the last FD);
2. store ``printing`` with the FN serial and that FD (the intent) — committed before sending;
3. send the receipt; on the answer store ``done`` with FN, FD, FP.

Group commit. When another receipt is waiting, the ``done`` of a receipt is stored in the same
transaction as the next receipt's intent (one fsync, not two): the worker keeps the register's
answer, reads the next receipt's last FD fresh (steady state only: one round trip that changes
nothing on the register), and commits both moves at once before that receipt is sent. The
result is reported only from that commit on. Anything else first stores the ``done`` alone: a
register command, the guard, a cash movement, a failure, an empty queue. A crash before the
commit leaves the receipt ``printing`` with its intent, and it is settled by its mark like any
other (docs/exactly-once.md, "Group commit").

Any failure after step 2 leaves the row in ``printing``; the next attempt (or the next start
of the process) first asks the register what happened (``FiscalService.resolve``, which reads
the documents after the intent back from the FN and looks for the row's mark): issued →
``done``; not issued → back to ``pending`` and printed again (or ``rejected`` when the
register refused the receipt's data); cannot tell → ``unknown`` for a person, never printed
again automatically.

A doubtful receipt stops the line. While a row is ``printing`` and its outcome is not known,
nothing else is printed on the register: no other receipt, no cash movement, no shift command
(``execute`` raises :class:`LineStopped`). The worker keeps asking the register, with backoff,
however long it takes, and ``line`` tells health which row, since when and why. The line moves
on when the row is resolved, or parked ``unknown`` for a person.

Errors are handled by their disposition only: RETRY backs off with jitter up to a cap and then
fails the row; WAIT (paper, link, FN) waits as long as it takes and reports why in health;
REJECT rejects the row at once with a code and a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import structlog

from agent.domain.late import DEFAULT_LATE_POLICY, LatePolicy, correction_for
from agent.drivers.errors import (
    Disposition,
    DriverError,
    LinkError,
)
from agent.fiscal.errors import FiscalError, LineStopped
from agent.outbox.codec import CashDirection
from agent.outbox.codes import error_code
from agent.outbox.crash_points import crash_point
from agent.outbox.loop_reads import read_on_loop
from agent.outbox.resolver import RowResolver, receipt_record, receipt_ref
from agent.outbox.states import IllegalTransition, RowKind, RowState
from agent.outbox.store import OutboxError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from agent.domain.receipt import Correction
    from agent.fiscal.service import FiscalService, PrintTicket, RegisterSnapshot
    from agent.outbox.orders import FiscalRecord
    from agent.outbox.store import Outbox, OutboxRow

__all__ = ["Condition", "FiscalWorker", "LineStop", "WorkerParams"]

T = TypeVar("T")

RETRY_INITIAL_S = 0.5
RETRY_MAX_S = 30.0
RETRY_ATTEMPTS = 8
WAIT_POLL_S = 2.0
IDLE_TICK_S = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerParams:
    """Retry and polling intervals."""

    retry_initial_s: float = RETRY_INITIAL_S
    retry_max_s: float = RETRY_MAX_S
    retry_attempts: int = RETRY_ATTEMPTS  # RETRY-class failures before a row fails
    wait_poll_s: float = WAIT_POLL_S  # how often a WAIT condition is re-checked
    idle_tick_s: float = IDLE_TICK_S  # guard and health refresh when there is no work
    late: LatePolicy = DEFAULT_LATE_POLICY  # [receipts] late: when a receipt is a correction


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """Why the worker is not printing right now (for health)."""

    code: str
    message: str
    since: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LineStop:
    """Printing is held behind a row whose outcome is being established (health ``line``)."""

    row: str
    since: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _OwedDone:
    """A receipt the register signed; its ``done`` is stored with the next receipt's intent."""

    row_id: str
    record: FiscalRecord
    next_row: OutboxRow  # the pending receipt whose intent commits it


class _RowFinished(Exception):
    """The row reached a final state inside an attempt."""


class FiscalWorker:
    """Drains the outbox onto one register.

    ``on_error`` hears the code (docs/errors.md) of every error a register operation ended
    with, after the driver's own retries: a receipt's attempt, a command, the idle check.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        service: FiscalService,
        params: WorkerParams,
        log: structlog.typing.FilteringBoundLogger,
        clock: Callable[[], datetime],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._service = service
        self._resolver = RowResolver(
            outbox=outbox, service=service, clock=clock, shift_number=self._shift_number
        )
        self._params = params
        self._log = log
        self._clock = clock
        self._on_error = on_error
        self._wake = asyncio.Event()
        self.register_lock = asyncio.Lock()
        self.condition: Condition | None = None
        self.line: LineStop | None = None
        self.last_error: Condition | None = None
        self.snapshot: RegisterSnapshot | None = None
        self.snapshot_at: datetime | None = None  # the host's clock when it was read
        self.is_snapshot_stale = True  # the worker changed the register since the snapshot
        self.is_link_up = False
        self._connected = False
        self._owed: _OwedDone | None = None  # a done waiting for the next intent's commit
        self._maybe_more = False  # another row may wait: a commit since the last look, or seen

    @property
    def fn_serial(self) -> str | None:
        """The FN the register reported at its last connect, if it was reached once."""
        info = self._service.info
        return info.fn_serial if info else None

    def _shift_number(self) -> int:
        return self.snapshot.state.shift_number if self.snapshot else 0

    def notify(self) -> None:
        """A new row was committed: wake the worker."""
        self._maybe_more = True
        self._wake.set()

    async def run(self) -> None:
        """Recover rows left in ``printing``, then drain the outbox forever.

        Right after the recovery the guard runs once, so a shift that aged while the agent was
        down is rotated (and health filled in) without waiting for the first receipt. A row in
        ``printing`` always comes first: the line waits until it is settled.
        """
        is_started = False
        while True:
            try:
                await self._step(is_started=is_started)
                is_started = True
            except OutboxError as exc:
                # The state file cannot be written (disk full, read-only): nothing was lost,
                # a row whose result could not be stored stays ``printing`` and is settled
                # by its mark once the disk takes writes again.
                self._note(Condition(code=error_code(exc), message=str(exc), since=self._clock()))
                self._log.error("outbox_unavailable", error=str(exc))
                await asyncio.sleep(self._params.wait_poll_s)

    async def _step(self, *, is_started: bool) -> None:
        if self._owed is not None:
            # The next receipt was read when the last one was signed: its intent stores both.
            await self._process(self._owed.next_row)
            return
        self._maybe_more = False  # before the read: a commit during it sets it again
        row, more = await read_on_loop(self._outbox, self._outbox.next_work_and_more)
        self._maybe_more = self._maybe_more or more
        if row is not None and row.state is RowState.PRINTING:
            await self._settle(row)
        elif not is_started:
            await self._tick()
        elif row is None:
            await self._idle()
        else:
            await self._process(row)

    async def execute(self, operation: Callable[[FiscalService], Awaitable[T]]) -> T:
        """Run a shift, report or other register command between receipts.

        Raises the driver's error when the register refuses or cannot be reached, and
        :class:`LineStopped` while a receipt's outcome is being established; the caller (an
        adapter) turns it into its own error answer.
        """
        if self.line is not None:
            # Refused at once, not after the lock: settling the row holds it for as long as
            # the register takes to answer (an ATOL read queued behind a blocked task: 30 s).
            raise LineStopped(self.line.row, self.line.reason)
        async with self.register_lock:
            await self._store_owed()  # a shift report counts every signed receipt
            if self.line is not None:
                raise LineStopped(self.line.row, self.line.reason)
            await self._ensure_connected()
            self.is_snapshot_stale = True
            try:
                result = await operation(self._service)
            except (DriverError, FiscalError) as exc:
                self._note_error(exc)
                if isinstance(exc, LinkError):
                    self._connected = False
                raise
            self._clear_condition()
            # A shift command changed the register: health shows it at once, not after the
            # next idle check (a snapshot that cannot be read now is read again later).
            with contextlib.suppress(DriverError, FiscalError):
                await self._take_snapshot()
            return result

    # -- the loop ---------------------------------------------------------------------------

    async def _idle(self) -> None:
        self._wake.clear()
        try:
            async with asyncio.timeout(self._params.idle_tick_s):
                await self._wake.wait()
        except TimeoutError:
            await self._tick()

    async def _tick(self) -> None:
        """No work: keep the shift within its limits and health fresh."""
        try:
            async with self.register_lock:
                await self._ensure_connected()
                await self._service.guard()
                await self._take_snapshot()
            self._clear_condition()
        except (DriverError, FiscalError) as exc:
            known = self.condition or self.last_error
            if known is None or known.code != error_code(exc):
                # Once per change, not every tick: an idle Z refused (the drawer is not
                # empty) or a register gone away is in the journal, not only in health.
                self._log.warning("idle_check_failed", error=error_code(exc), message=str(exc))
            self._note_error(exc)
            if isinstance(exc, LinkError):
                self._connected = False

    async def refresh_snapshot(self) -> None:
        """Read the register for health now (between operations)."""
        async with self.register_lock:
            await self._ensure_connected()
            await self._take_snapshot()

    async def _take_snapshot(self) -> None:
        before = self._clock()
        self.snapshot = await self._service.snapshot()
        after = self._clock()
        self.snapshot_at = before + (after - before) / 2
        self.is_snapshot_stale = False

    async def _process(self, row: OutboxRow) -> None:
        # Bound in the context too, so the driver's own lines about this receipt carry its id.
        with structlog.contextvars.bound_contextvars(request_id=row.id):
            self.is_snapshot_stale = True
            await self._process_bound(row)
            await self._release_line_unless_printing(row.id)

    async def _settle(self, row: OutboxRow) -> None:
        """The line is stopped: ask the register until the row in ``printing`` is settled.

        No attempt limit: a row whose receipt may exist is never failed and never skipped.
        It ends as ``done`` (its mark was found), ``pending`` (proven not issued: printed
        again next), ``rejected`` or ``unknown`` (a person settles it).
        """
        with structlog.contextvars.bound_contextvars(request_id=row.id):
            log = self._log.bind(kind=row.kind.value)
            self._stop_line(row.id, row.error_message or "settling a receipt left in printing")
            log.warning("line_stopped", reason=self.line.reason if self.line else "")
            failures = 0
            while True:
                try:
                    async with self.register_lock:
                        await self._ensure_connected()
                        current = await asyncio.to_thread(self._outbox.get, row.id)
                        if current is not None and current.state is RowState.PRINTING:
                            self.is_snapshot_stale = True
                            await self._resolver.resolve(current, log, refused=None)
                    break
                except (DriverError, FiscalError) as exc:
                    failures += 1
                    await self._on_attempt_error(row.id, exc, log)
                    await asyncio.sleep(self._delay(exc, failures))
            await self._release_line_unless_printing(row.id)
            self._clear_condition()
            log.info("line_resumed")

    def _delay(self, exc: DriverError | FiscalError, failures: int) -> float:
        """Before the next try: a WAIT condition is polled; others back off, with jitter, capped.

        On the monotonic clock (``asyncio.sleep``): a host clock jump changes nothing here.
        """
        if exc.disposition is Disposition.WAIT:
            return self._params.wait_poll_s
        backoff = self._params.retry_initial_s * 2.0 ** min(failures - 1, 16)
        jitter = random.uniform(0, self._params.retry_initial_s)  # noqa: S311 - jitter, not crypto
        return min(self._params.retry_max_s, backoff + jitter)

    def _stop_line(self, row_id: str, reason: str) -> None:
        since = self.line.since if self.line and self.line.row == row_id else self._clock()
        self.line = LineStop(row=row_id, since=since, reason=reason)

    async def _release_line_unless_printing(self, row_id: str) -> None:
        if self.line is None or self.line.row != row_id:
            return
        row = await read_on_loop(self._outbox, lambda: self._outbox.get(row_id))
        if row is None or row.state is not RowState.PRINTING:
            self.line = None

    async def _process_bound(self, row: OutboxRow) -> None:
        log = self._log.bind(kind=row.kind.value)
        try:
            await self._attempts(row, log)
        except _RowFinished:
            pass
        except IllegalTransition:
            # Withdrawn while it waited (Outbox.withdraw: never once it is printing).
            current = await asyncio.to_thread(self._outbox.get, row.id)
            if current is None or not current.state.is_final:
                raise
            log.info("row_withdrawn", state=current.state.value)
        except (DriverError, FiscalError) as exc:
            await self._give_up(row.id, exc, log)

    async def _attempts(self, row: OutboxRow, log: structlog.typing.FilteringBoundLogger) -> None:
        """Attempt the row until it is finished (:class:`_RowFinished`) or an error is final.

        A REJECT error is final at once; RETRY errors after ``retry_attempts`` of them; WAIT
        errors never (they do not count). Between attempts: :meth:`_delay`. The first attempt
        takes the row as the loop read it; later ones read it again (an attempt may have left
        it in printing).
        """
        fresh: OutboxRow | None = row
        retry_failures = 0
        attempt_number = 0
        while True:
            attempt_number += 1
            try:
                fresh_row, fresh = fresh, None
                await self._attempt(row.id, log, fresh_row)
            except (DriverError, FiscalError) as exc:
                if exc.disposition is Disposition.RETRY:
                    retry_failures += 1
                await self._on_attempt_error(row.id, exc, log)
                if exc.disposition is Disposition.REJECT:
                    raise
                if retry_failures >= self._params.retry_attempts:
                    raise
                await asyncio.sleep(self._delay(exc, attempt_number))

    async def _attempt(
        self,
        row_id: str,
        log: structlog.typing.FilteringBoundLogger,
        fresh: OutboxRow | None = None,
    ) -> None:
        async with self.register_lock:
            try:
                await self._ensure_connected()
                row = fresh or await asyncio.to_thread(self._outbox.get, row_id)
                if row is None or row.state not in (RowState.PENDING, RowState.PRINTING):
                    raise _RowFinished
                if row.state is RowState.PRINTING and await self._resolver.resolve(
                    row, log, refused=None
                ):
                    raise _RowFinished
                ticket = await self._prepare(row)
                correction = self._correction(row, ticket)
                row = await self._store_intent(row_id, ticket, correction)
            finally:
                await self._store_owed()  # unless the intent's commit stored it already
            log.debug(
                "printing",
                fn=ticket.fn_serial,
                last_fd=ticket.last_fd,
                correction=None if correction is None else correction.settled_on.isoformat(),
            )
            crash_point("after_mark_printing")
            if row.kind is RowKind.CASH:
                await self._send_cash(row, log)
            else:
                await self._send_receipt(row, log)
        self._clear_condition()
        raise _RowFinished

    async def _send_receipt(
        self, row: OutboxRow, log: structlog.typing.FilteringBoundLogger
    ) -> None:
        assert row.receipt is not None
        try:
            issued = await self._service.issue(row.receipt, ref=receipt_ref(row))
        except DriverError as exc:
            if exc.disposition is Disposition.REJECT:
                # The register refused the data. Make sure nothing was issued, then reject.
                self._count_error(exc)
                await self._resolver.resolve(row, log, refused=exc)
                raise _RowFinished from exc
            raise
        crash_point("after_issue")
        record = receipt_record(issued, row)
        # After a doubt about this row (the line stopped for it), its done is stored at once.
        following = await self._next_receipt() if self.line is None else None
        if following is not None:
            self._owed = _OwedDone(row_id=row.id, record=record, next_row=following)
            return
        await asyncio.to_thread(self._outbox.mark_done, row.id, fiscal=record)
        log.info("receipt_done", fd=issued.fd, fp=issued.fp, shift=issued.shift, type=record.type)

    # -- group commit -----------------------------------------------------------------------

    async def _next_receipt(self) -> OutboxRow | None:
        """The pending receipt to print next, when one may be waiting (read only then)."""
        if not self._maybe_more:
            return None
        self._maybe_more = False  # before the read: a commit during it sets it again
        row = await read_on_loop(self._outbox, self._outbox.next_pending)
        if row is None or row.kind is not RowKind.RECEIPT:
            return None
        self._maybe_more = True  # more may wait behind it
        return row

    async def _prepare(self, row: OutboxRow) -> PrintTicket:
        """The intent's base; with a done owed, the steady-state read that changes nothing."""
        if self._owed is not None and row.kind is RowKind.RECEIPT:
            ticket = await self._service.prepare_next_receipt()
            if ticket is not None:
                return ticket
            await self._store_owed()  # the guard or a cancel may act: the done is stored first
        return await self._service.prepare_receipt(with_drawer=row.kind is RowKind.CASH)

    def _correction(self, row: OutboxRow, ticket: PrintTicket) -> Correction | None:
        """Whether the receipt is sent as a correction (a late payment), and for which date.

        Decided now, on the register's clock and its open shift as the ticket read them, and
        kept with the intent (docs/corrections.md): recovery then looks for that document.
        """
        if row.receipt is None or ticket.clock is None:
            return None
        return correction_for(
            self._params.late,
            paid_at=row.receipt.paid_at,
            clock=ticket.clock,
            shift_opened_at=ticket.shift_opened_at,
        )

    async def _store_intent(
        self, row_id: str, ticket: PrintTicket, correction: Correction | None
    ) -> OutboxRow:
        """Commit the intent, with the correction decided for it.

        With a done owed, both in one transaction: the next receipt's intent carries its
        correction exactly as :meth:`Outbox.mark_printing` would store it.
        """
        owed, self._owed = self._owed, None
        if owed is None:
            return await asyncio.to_thread(
                self._outbox.mark_printing,
                row_id,
                fn_serial=ticket.fn_serial,
                last_fd=ticket.last_fd,
                drawer=ticket.cash_in_drawer,
                correction=correction,
            )
        crash_point("before_group_commit")
        try:
            row = await asyncio.to_thread(
                self._outbox.mark_done_and_printing,
                owed.row_id,
                fiscal=owed.record,
                id=row_id,
                fn_serial=ticket.fn_serial,
                last_fd=ticket.last_fd,
                correction=correction,
            )
        except Exception:
            self._owed = owed  # rolled back: the done is stored alone (the caller's finally)
            raise
        self._log_done(owed)
        return row

    async def _store_owed(self) -> None:
        """Store the owed done on its own (nothing to share the commit with)."""
        owed, self._owed = self._owed, None
        if owed is None:
            return
        try:
            await asyncio.to_thread(self._outbox.mark_done, owed.row_id, fiscal=owed.record)
        except IllegalTransition:
            # Not printing any more: its outcome is stored (a commit that did go through).
            self._log.warning("owed_done_already_stored", request_id=owed.row_id)
            return
        self._log_done(owed)

    def _log_done(self, owed: _OwedDone) -> None:
        record = owed.record
        self._log.info(
            "receipt_done",
            request_id=owed.row_id,
            kind=RowKind.RECEIPT.value,
            fd=record.fd,
            fp=record.fp,
            shift=record.shift,
            type=record.type,
        )

    async def _send_cash(self, row: OutboxRow, log: structlog.typing.FilteringBoundLogger) -> None:
        assert row.cash is not None
        order = row.cash
        try:
            if order.direction is CashDirection.IN:
                movement = await self._service.cash_in(order.amount)
            else:
                movement = await self._service.cash_out(order.amount)
        except DriverError as exc:
            if exc.disposition is Disposition.REJECT:
                self._count_error(exc)
                await asyncio.to_thread(
                    self._outbox.mark_rejected, row.id, code=error_code(exc), message=str(exc)
                )
                log.warning("cash_rejected", error=error_code(exc))
                raise _RowFinished from exc
            raise
        record = self._resolver.cash_record(row, number=movement.number)
        await asyncio.to_thread(self._outbox.mark_done, row.id, fiscal=record)
        log.info("cash_done", number=movement.number, drawer=movement.cash_in_drawer)

    async def _on_attempt_error(
        self,
        row_id: str,
        exc: DriverError | FiscalError,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        code = error_code(exc)
        log.warning(
            "attempt_failed", error=code, disposition=exc.disposition.value, detail=str(exc)
        )
        self._note_error(exc)
        if isinstance(exc, LinkError):
            self._connected = False
        row = await asyncio.to_thread(
            self._outbox.note_attempt, row_id, error_code=code, message=str(exc)
        )
        if row.state is RowState.PRINTING:
            # Its receipt may exist: nothing else prints until the register says.
            self._stop_line(row_id, f"{code}: {exc}")

    async def _give_up(
        self,
        row_id: str,
        exc: DriverError | FiscalError,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        row = await asyncio.to_thread(self._outbox.get, row_id)
        if row is None or row.state.is_final:  # withdrawn while it waited
            return
        code = error_code(exc)
        if exc.disposition is Disposition.REJECT and row.state is RowState.PENDING:
            await asyncio.to_thread(self._outbox.mark_rejected, row_id, code=code, message=str(exc))
            log.warning("rejected", error=code)
            return
        if row.state is RowState.PRINTING:
            # Never fail a row whose receipt may exist: the loop settles it before anything
            # else prints (the line stays stopped).
            log.error("retries_exhausted_in_flight", error=code)
            return
        await asyncio.to_thread(
            self._outbox.mark_failed,
            row_id,
            code="retries_exhausted",
            message=f"gave up after {self._params.retry_attempts} attempts: {exc}",
        )
        log.error("failed", error=code)

    async def _ensure_connected(self) -> None:
        if self._connected:
            return
        await self._service.connect()
        self._connected = True
        self.is_link_up = True

    def _note_error(self, exc: DriverError | FiscalError) -> None:
        now = self._clock()
        condition = Condition(code=error_code(exc), message=str(exc), since=now)
        self._count_error(exc)
        # Any answer, even a refusal (a wrong password), proves the link is up.
        self.is_link_up = not isinstance(exc, LinkError)
        if exc.disposition is Disposition.WAIT:
            self._note(condition)
        else:
            self.last_error = condition

    def _count_error(self, exc: DriverError | FiscalError) -> None:
        if self._on_error is not None:
            self._on_error(error_code(exc))

    def _note(self, condition: Condition) -> None:
        """A condition that stops printing (paper, link, disk) for health."""
        self.last_error = condition
        if self.condition is None or self.condition.code != condition.code:
            self.condition = condition

    def _clear_condition(self) -> None:
        self.condition = None
        self.is_link_up = True
