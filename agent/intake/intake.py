"""One intake for every way in: validate, map, check the fiscal rules, commit, answer by id.

The local HTTP API calls it today; MQTT and the KkmServer-compatible API call the same methods,
so a request id means the same thing whichever way it came (docs/contract.md, "One answer per
id"). An adapter only parses its wire format into plain data and formats what comes back.

A request sent again with the same id and the same content gets the stored row: ``done`` (its
result, never a second document), ``rejected`` (the stored rejection), ``pending``,
``printing`` or ``unknown`` (the current status); ``failed`` is taken again (pending once more).
The same id with other content is :class:`IdConflict`, and the id's own result is never
replaced. Nothing is acknowledged before it is committed to the outbox and fsync'd.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from agent.contract import (
    CashCommand,
    ErrorBody,
    ReceiptRequest,
    ResolveCommand,
    ShiftCommand,
    request_fingerprint,
)
from agent.domain.errors import ReceiptRuleError
from agent.domain.money import Kopecks
from agent.domain.receipt import Receipt, ReceiptKind
from agent.drivers.errors import DocumentNotFound
from agent.drivers.interface import RECEIPT_TYPES, DocumentType
from agent.fiscal import recovery
from agent.intake.errors import (
    IdConflict,
    InvalidRequest,
    NotSettleable,
    OutboxFull,
    RequestNotFound,
    SettlementRefused,
    VatRateNotInCountry,
)
from agent.intake.receipt_mapping import cash_to_domain, receipt_to_domain
from agent.intake.report_mapping import shift_report_json
from agent.outbox.codes import QUEUE_EXPIRED
from agent.outbox.loop_reads import read_on_loop
from agent.outbox.orders import FiscalRecord
from agent.outbox.states import RowKind, RowState
from agent.outbox.store import FdTaken, SubmissionStatus
from agent.outbox.sync_queue import SyncTopic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.config import AgentConfig
    from agent.domain.country import CountryProfile
    from agent.drivers.interface import CalculationStateReport, FiscalDocument
    from agent.fiscal.reports import ShiftReportData
    from agent.fiscal.service import FiscalService
    from agent.outbox.store import Outbox, OutboxRow
    from agent.outbox.sync_queue import SyncQueue
    from agent.outbox.worker import FiscalWorker

__all__ = ["Intake", "Submitted", "Taken"]

M = TypeVar("M", bound=BaseModel)

WAIT_POLL_S = 0.05


class Taken(Enum):
    """How a submission was taken."""

    NEW = "new"  # committed now: answer "accepted" (HTTP 202, PUBACK)
    AGAIN = "again"  # a failed request sent again: pending once more (also 202)
    KNOWN = "known"  # the same request seen before: answer with the stored row


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    """A request the outbox holds: how it was taken and its row as it stands."""

    taken: Taken
    row: OutboxRow

    @property
    def is_new(self) -> bool:
        """The request waits to be printed because of this submission."""
        return self.taken is not Taken.KNOWN


class Intake:
    """Receipts, cash, shift commands and settlements, for every adapter alike."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        outbox: Outbox,
        worker: FiscalWorker,
        log: structlog.typing.FilteringBoundLogger,
        queue: SyncQueue | None = None,
        country: CountryProfile | None = None,
    ) -> None:
        """``country`` is where receipts are issued; by default the config's ``country``."""
        self._config = config
        self._country = country or config.profile
        self._outbox = outbox
        self._worker = worker
        self._queue = queue  # where commanded shift reports go for the cloud (evt/shift)
        self._log = log.bind(component="intake")

    # -- submissions ----------------------------------------------------------------------

    async def submit_receipt(self, data: object) -> Submitted:
        """Validate, map and commit a ReceiptRequest (a dict as decoded from JSON, or one).

        Raises:
            InvalidRequest: bad shape or a broken fiscal rule, with the field.
            IdConflict: the id is known with other content.
            OutboxFull: too many requests wait already; nothing stored.
            StorageUnavailable: the state file cannot be written; nothing stored.
        """
        request = validate(ReceiptRequest, data)
        log = self._log.bind(request_id=request.id)
        try:
            receipt = receipt_to_domain(request, config=self._config, country=self._country)
        except ReceiptRuleError as exc:
            log.info("receipt_refused", error=exc.code, field=exc.field)
            if exc.code == VatRateNotInCountry.public_code:
                raise VatRateNotInCountry(str(exc), field=exc.field) from exc
            raise InvalidRequest(exc.code, str(exc), field=exc.field) from exc
        if request.refund_of is not None:
            receipt = await self._linked_refund(request.refund_of, receipt, log)
        submission = await asyncio.to_thread(
            self._outbox.submit_receipt, request.id, receipt, request_fingerprint(request)
        )
        return self._taken(request.id, submission.status, submission.row, log)

    async def _linked_refund(
        self, sale_id: str, receipt: Receipt, log: structlog.typing.FilteringBoundLogger
    ) -> Receipt:
        """A refund that names its sale: the sale's document as the register named it.

        The sale must be a receipt of this agent, a sale, and done; otherwise the refund is
        refused with what to do (send it without ``refund_of`` to print it unlinked).
        """
        if receipt.kind is not ReceiptKind.REFUND:
            raise InvalidRequest(
                code="refund_of_on_a_sale",
                message="refund_of names a refund's sale; this request is a sale",
                field="refund_of",
            )
        sale = await read_on_loop(self._outbox, lambda: self._outbox.get(sale_id))
        fiscal = sale.fiscal if sale is not None and sale.state is RowState.DONE else None
        sold = sale.receipt if sale is not None else None
        if fiscal is None or sold is None or sold.kind is not ReceiptKind.SALE:
            log.info("refund_of_unknown", refund_of=sale_id)
            raise InvalidRequest(
                code="refund_of_unknown",
                message=(
                    f"refund_of: no issued sale with id {sale_id} on this agent; send the "
                    "refund without refund_of to print it unlinked"
                ),
                field="refund_of",
            )
        return replace(receipt, parent_doc_id=fiscal.doc_id)

    async def submit_cash(self, data: object) -> Submitted:
        """Validate and commit a CashCommand; errors as :meth:`submit_receipt`."""
        command = validate(CashCommand, data)
        log = self._log.bind(request_id=command.id)
        submission = await asyncio.to_thread(
            self._outbox.submit_cash,
            command.id,
            cash_to_domain(command),
            request_fingerprint(command),
        )
        return self._taken(command.id, submission.status, submission.row, log)

    def _taken(
        self,
        request_id: str,
        status: SubmissionStatus,
        row: OutboxRow | None,
        log: structlog.typing.FilteringBoundLogger,
    ) -> Submitted:
        if status is SubmissionStatus.FULL or row is None:
            log.error("outbox_full")
            raise OutboxFull
        if status is SubmissionStatus.CONFLICT:
            log.warning("id_conflict")
            raise IdConflict(request_id)
        if status is SubmissionStatus.DUPLICATE:
            log.info("duplicate", state=row.state.value)
            return Submitted(taken=Taken.KNOWN, row=row)
        self._worker.notify()
        if status is SubmissionStatus.RETAKEN:
            log.info("taken_again", previous="failed")
            return Submitted(taken=Taken.AGAIN, row=row)
        log.debug("accepted", kind=row.kind.value)
        return Submitted(taken=Taken.NEW, row=row)

    # -- reading --------------------------------------------------------------------------

    async def row(self, request_id: str) -> OutboxRow:
        """The row of a request; :class:`RequestNotFound` when the id is not known.

        A lookup by id: on the loop when the outbox is free (a CRM polling for its result
        costs no thread hop), else in a thread.
        """
        row = await read_on_loop(self._outbox, lambda: self._outbox.get(request_id))
        if row is None:
            raise RequestNotFound(request_id)
        return row

    async def wait_final(self, request_id: str, timeout_s: float) -> OutboxRow:
        """The row once it leaves pending and printing, or as it stands after the timeout."""
        row = await self.row(request_id)
        try:
            async with asyncio.timeout(timeout_s):
                while row.state in (RowState.PENDING, RowState.PRINTING):
                    await asyncio.sleep(WAIT_POLL_S)
                    row = await self.row(request_id)
        except TimeoutError:
            pass
        return row

    async def withdraw(self, request_id: str, *, message: str) -> OutboxRow:
        """Fail the request if it is still waiting (``pending``); once printing, it stays.

        For adapters whose callers give up on a queued command and send it again under a new
        id (KkmServer's queue limit): the withdrawn request must never print later.
        """
        row = await asyncio.to_thread(self._outbox.withdraw, request_id, message=message)
        if row.state is RowState.FAILED and row.error_code == QUEUE_EXPIRED:
            self._log.warning("withdrawn", request_id=request_id, error=QUEUE_EXPIRED)
        return row

    async def waiting(self, limit: int = 10_000) -> list[OutboxRow]:
        """The rows still ``pending``, newest first."""
        return await asyncio.to_thread(self._outbox.list, state=RowState.PENDING, limit=limit)

    async def find_done(self, fd: int) -> OutboxRow | None:
        """The done receipt with this FD on the current FN; ``0``: the last done receipt."""
        if fd == 0:
            rows = await asyncio.to_thread(self._outbox.list, state=RowState.DONE, limit=50)
            return next((row for row in rows if row.kind is RowKind.RECEIPT), None)
        fn = self._worker.fn_serial
        if fn is None:
            return None
        return await asyncio.to_thread(self._outbox.find_by_fd, fn, fd)

    # -- register commands ----------------------------------------------------------------

    async def shift(self, data: object, *, publish: bool = True) -> ShiftReportData:
        """Run a ShiftCommand on the register between receipts; the driver's error propagates.

        With ``publish`` the report is queued for the cloud (``evt/shift``); the MQTT intake
        passes False and queues it together with the command's outcome. Raises
        :class:`agent.fiscal.errors.LineStopped` while a receipt's outcome is being
        established (nothing else may print then).
        """
        command = validate(ShiftCommand, data)
        if command.action == "sync_tape":  # answers documents, not a ShiftReport
            raise InvalidRequest(
                "invalid_request", "sync_tape is a cmd/shift command over MQTT", field="action"
            )
        actions: dict[str, Callable[[FiscalService], Awaitable[ShiftReportData]]] = {
            "open": lambda service: service.open_shift(),
            "close": lambda service: service.close_shift(),
            "x_report": lambda service: service.x_report(),
        }
        report = await self._worker.execute(actions[command.action])
        if publish and self._queue is not None:
            body = shift_report_json(report, request_id=command.id)
            await asyncio.to_thread(self._queue.put, SyncTopic.SHIFT, body)
        return report

    async def ofd_report(self) -> CalculationStateReport:
        """Print the FN's calculation-state report between receipts (no outbox row).

        An FN document, but no receipt: it has no request id of its own here (the KkmServer
        adapter keeps it by id, agent.intake.kept_shifts). Raises as :meth:`shift`.
        """
        return await self._worker.execute(lambda service: service.calculation_state_report())

    async def open_drawer(self) -> None:
        """Open the cash drawer between receipts: no document, no outbox row.

        Behind the register lock like every register command, and refused with
        :class:`agent.fiscal.errors.LineStopped` while a receipt's outcome is open.
        """
        await self._worker.execute(lambda service: service.open_drawer())
        self._log.info("drawer_opened")

    # -- a person settles an unknown row --------------------------------------------------

    async def settle(self, request_id: str, data: object) -> OutboxRow:
        """Settle an ``unknown`` row as a person decided (``POST .../resolve``).

        ``issued`` with an FD: the document is read back from the FN and must exist, be a
        receipt with this request's content, carry no other request's mark, and be no other
        row's result. ``not_issued``: the row is pending again and printed. Who and when are
        kept with the row.
        """
        command = validate(ResolveCommand, data)
        row = await self.row(request_id)
        if row.state is not RowState.UNKNOWN:
            raise NotSettleable(request_id, row.state.value)
        log = self._log.bind(request_id=request_id, by=command.by)
        if command.settle_as == "not_issued":
            settled = await asyncio.to_thread(
                self._outbox.settle_not_issued, request_id, by=command.by, reason=command.reason
            )
            self._worker.notify()
            log.warning("settled_not_issued", reason=command.reason)
            return settled
        record = await self._settled_record(row, command)
        try:
            settled = await asyncio.to_thread(
                self._outbox.settle_issued,
                request_id,
                fiscal=record,
                by=command.by,
                reason=command.reason,
            )
        except FdTaken as exc:
            raise SettlementRefused(exc.public_code, str(exc)) from exc
        log.warning("settled_issued", fd=record.fd, reason=command.reason)
        return settled

    async def _settled_record(self, row: OutboxRow, command: ResolveCommand) -> FiscalRecord:
        if row.kind is RowKind.CASH:
            assert row.cash is not None
            if command.fd is not None:
                raise SettlementRefused(
                    "invalid_request", "a cash movement has no FD: send as issued without fd"
                )
            return FiscalRecord(
                fn=row.fn_serial or "",
                fd=0,
                fp=0,
                shift=0,
                number=0,
                issued_at=row.updated_at,
                total=row.cash.amount,
                change=Kopecks(0),
            )
        if command.fd is None:
            raise SettlementRefused("invalid_request", "issued needs the document's fd")
        document = await self._read_document(command.fd)
        assert row.receipt is not None
        if document.type not in RECEIPT_TYPES:
            raise SettlementRefused(
                "fd_not_a_receipt", f"FD {command.fd} is a type {document.type} document"
            )
        if document.mark is not None and document.mark != row.id:
            raise SettlementRefused(
                "fd_of_another_request",
                f"FD {command.fd} carries the mark of request {document.mark}",
            )
        difference = recovery.mismatch(row.receipt, document)
        if difference is not None:
            raise SettlementRefused(
                "fd_content_differs", f"FD {command.fd} is not this request's receipt: {difference}"
            )
        info = self._worker.fn_serial
        return FiscalRecord(
            fn=info or row.fn_serial or "",
            fd=document.fd,
            fp=document.fp,
            shift=document.shift or 0,
            number=document.number or 0,
            issued_at=document.issued_at,
            total=row.receipt.total,
            change=row.receipt.change,
            mark=document.mark,
            type="correction" if document.type == DocumentType.CORRECTION else "receipt",
            doc_id=document.doc_id,
        )

    async def _read_document(self, fd: int) -> FiscalDocument:
        try:
            return await self._worker.execute(lambda service: service.read_document(fd))
        except DocumentNotFound as exc:
            raise SettlementRefused("fd_not_found", f"the FN holds no document {fd}") from exc


def validate(model: type[M], data: object) -> M:
    """``data`` as the contract model; :class:`InvalidRequest` naming the first bad field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        body = ErrorBody.from_validation_error(exc)
        raise InvalidRequest(body.error.code, body.error.message, field=body.error.field) from exc
