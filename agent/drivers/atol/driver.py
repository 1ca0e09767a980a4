"""The ATOL driver: FiscalDriver over ATOL's driver v10 web server (docs/atol-driver.md).

Layer 4 (docs/style.md §1). Every operation is a request of JSON tasks to the web server's
queue (:mod:`~agent.drivers.atol.runner`), built and read by the pure codecs
(:mod:`~agent.drivers.atol.codec`). One driver method runs at a time (an ``asyncio.Lock``).

Receipts are exactly-once by two means. The web server deduplicates a uuid (409), and the
driver derives a receipt's uuid from the request's id and attempt
(:func:`~agent.drivers.atol.params.receipt_task_uuid`), so a resend of the same attempt can
never print twice. And the agent's proof stays the mark in the FN: a receipt the driver did
not watch plainly run (409, or ``blocked`` and decided by the server from the FD counter) is
read back and its mark checked before it is reported issued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

import structlog

from agent.domain.money import Kopecks
from agent.domain.receipt import Cashier, Receipt
from agent.drivers.atol.codec import results as codec
from agent.drivers.atol.codec.documents import fn_document
from agent.drivers.atol.codec.results import TaskStatus
from agent.drivers.atol.codec.tasks import (
    cash_task,
    fn_document_task,
    read_task,
    receipt_task,
    receipt_task_type,
    shift_task,
)
from agent.drivers.atol.codec.values import MalformedResult, as_kopecks, field
from agent.drivers.atol.errors import TaskOutcomeUnknown
from agent.drivers.atol.params import AtolParams, receipt_task_uuid
from agent.drivers.atol.runner import TaskRunner
from agent.drivers.atol.transport import AtolHttp
from agent.drivers.errors import (
    DeviceError,
    DocumentNotFound,
    DriverError,
    MalformedPayload,
    ReceiptNotOpen,
)
from agent.drivers.interface import (
    CalculationStateReport,
    CashMovement,
    DeviceInfo,
    DocumentType,
    FiscalDocument,
    FiscalDriver,
    FnState,
    IssuedReceipt,
    LedgerState,
    ReceiptRef,
    RegisterState,
    ShiftCounters,
    ShiftDocument,
    ShiftState,
    ShiftView,
    TaxSetup,
)
from agent.drivers.named_rates import named_rates_setup

__all__ = ["SCAN_BATCH", "SHIFT_SCAN_LIMIT", "AtolDriver"]

SHIFT_SCAN_LIMIT: Final = 5000
"""Documents :meth:`AtolDriver.shift_open_document` reads back before it gives up."""
SCAN_BATCH: Final = 10
"""``getFnDocument`` tasks per request while scanning back for the open-shift document."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

_STATE_READS: Final = ("getDeviceStatus", "getShiftStatus", "getFnStatus")


class AtolDriver:
    """An ATOL register behind :class:`agent.drivers.interface.FiscalDriver`."""

    def __init__(
        self,
        params: AtolParams | None = None,
        *,
        log: structlog.typing.FilteringBoundLogger | None = None,
    ) -> None:
        self._params = params or AtolParams()
        self._log = log or structlog.get_logger("agent.drivers.atol")
        self._http = AtolHttp(self._params, log=self._log)
        self._runner = TaskRunner(self._http, self._params, log=self._log)
        self._zone = self._params.zone
        self._lock = asyncio.Lock()
        self._fn_serial: str | None = None
        self._open_documents: dict[int, FiscalDocument] = {}

    # --- link ------------------------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        """Settle the API (v2 or v1), then ``getDeviceInfo`` + ``getFnInfo``."""
        async with self._lock:
            api = await self._http.detect_api()
            device, fn_info = await self._runner.run_checked(
                [read_task("getDeviceInfo"), read_task("getFnInfo")]
            )
            info = self._decode(codec.device_info, device, fn_info)
        self._fn_serial = info.fn_serial
        self._open_documents.clear()
        self._log.info(
            "register connected", model=info.model, serial=info.serial, fn=info.fn_serial, api=api
        )
        return info

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._http.aclose()

    # --- reads -----------------------------------------------------------------------------

    async def read_state(self) -> RegisterState:
        """``getDeviceStatus`` + ``getShiftStatus`` + ``getFnStatus``, one request."""
        async with self._lock:
            device, shift, fn = await self._runner.run_checked(
                [read_task(kind) for kind in _STATE_READS]
            )
        return self._decode(codec.register_state, device, shift, fn, self._zone)

    async def read_ledger(self) -> LedgerState:
        """The same reads as :meth:`read_state` (the FN's last FD fresh every time)."""
        async with self._lock:
            tasks = [read_task(kind) for kind in _STATE_READS]
            if self._fn_serial is None:
                tasks.append(read_task("getFnInfo"))
            results = await self._runner.run_checked(tasks)
        if self._fn_serial is None:
            self._fn_serial = self._decode(
                lambda info: str(field(info, "fnInfo", "serial")), results[3]
            )
        device, shift, fn = results[:3]
        return self._decode(codec.ledger_state, self._fn_serial, device, shift, fn, self._zone)

    async def read_cash_drawer(self) -> Kopecks:
        """``getShiftTotals``' ``cashDrawer.sum``."""
        async with self._lock:
            (totals,) = await self._runner.run_checked([read_task("getShiftTotals")])
        return self._decode(
            lambda result: as_kopecks(field(result, "shiftTotals", "cashDrawer", "sum"), "sum"),
            totals,
        )

    async def read_fn_state(self) -> FnState:
        """``getFnInfo`` + ``getFnStatus`` + ``ofdExchangeStatus``, one request."""
        async with self._lock:
            info, fn, ofd = await self._runner.run_checked(
                [read_task("getFnInfo"), read_task("getFnStatus"), read_task("ofdExchangeStatus")]
            )
        return self._decode(codec.fn_state, info, fn, ofd, self._zone)

    async def read_counters(self) -> ShiftCounters:
        """``getShiftTotals``: money by payment type and count; VAT by rate from its ``taxes``."""
        async with self._lock:
            (totals,) = await self._runner.run_checked([read_task("getShiftTotals")])
        return self._decode(codec.shift_counters, totals)

    async def read_tax_setup(self) -> TaxSetup:
        """The driver's own rate -> ATOL tax type mapping, as the tax table it amounts to.

        An ATOL register computes each line's VAT from the tax type the line names
        (``vat22``, ``vat122``, ``none``...): there is no table to read and no tax mode to get
        wrong. The rows are the config's ``tax_rate_codes`` with the rate each one names,
        flagged ``is_read_from_register=False``: nothing was checked on the register.
        """
        return named_rates_setup(self._params.tax_rate_codes, "НДС")

    # --- documents -------------------------------------------------------------------------

    async def find_document(self, fd: int) -> FiscalDocument:
        """``getFnDocument`` FD ``fd``, header only (:class:`FiscalDocument`)."""
        async with self._lock:
            return await self._document(fd, whole=False)

    async def read_document(self, fd: int) -> FiscalDocument:
        """``getFnDocument`` FD ``fd``, read back whole: lines, payments and the mark."""
        async with self._lock:
            return await self._document(fd, whole=True)

    async def _document(self, fd: int, *, whole: bool) -> FiscalDocument:
        tasks = [fn_document_task(fd)]
        run = await self._runner.run(tasks)
        try:
            (result,) = self._runner.check(run, tasks)
        except DeviceError as exc:
            (fn,) = await self._runner.run_checked([read_task("getFnStatus")])
            if fd > self._decode(codec.last_fd, fn):
                raise DocumentNotFound(exc.code, 0, fd) from exc
            raise
        return self._decode(fn_document, result, fd, self._zone, whole=whole)

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's open-shift document: read back from the last FD down, cached."""
        if state.shift is ShiftState.CLOSED:
            return None
        cached = self._open_documents.get(state.shift_number)
        if cached is not None:
            return cached
        async with self._lock:
            lowest = max(1, state.last_fd - SHIFT_SCAN_LIMIT + 1)
            top = state.last_fd
            while top >= lowest:
                fds = list(range(top, max(lowest, top - SCAN_BATCH + 1) - 1, -1))
                tasks = [fn_document_task(fd) for fd in fds]
                run = await self._runner.run(tasks)
                for index, (fd, entry) in enumerate(zip(fds, run.results, strict=True)):
                    if entry.status is not TaskStatus.READY:  # only what lies before it counts
                        self._runner.check(run, tasks[: index + 1])
                    document = self._decode(fn_document, entry.result, fd, self._zone, whole=False)
                    if document.type == DocumentType.OPEN_SHIFT:
                        self._open_documents = {state.shift_number: document}
                        return document
                    if document.type == DocumentType.CLOSE_SHIFT:
                        return None
                top = fds[-1] - 1
        return None

    # --- shift, reports, drawer ------------------------------------------------------------

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        """``openShift``; ATOL 83 (a shift is open) raises ShiftAlreadyOpen."""
        return await self._shift_document(shift_task("openShift", cashier))

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        """``closeShift`` (Z); ATOL 73 (no shift open) raises ShiftNotOpen."""
        self._open_documents.clear()
        return await self._shift_document(shift_task("closeShift", cashier))

    async def _shift_document(self, task: dict[str, Any]) -> ShiftDocument:
        async with self._lock:
            (result,) = await self._runner.run_checked([task])
        return self._decode(codec.shift_document, result, self._zone)

    async def x_report(self) -> None:
        """``reportX`` (no fiscal document)."""
        async with self._lock:
            await self._runner.run_checked([shift_task("reportX")])

    async def calculation_state_report(self) -> CalculationStateReport:
        """``reportOfdExchangeStatus`` (FD type 21), then ``ofdExchangeStatus`` for the backlog."""
        async with self._lock:
            (result,) = await self._runner.run_checked([read_task("reportOfdExchangeStatus")])
            (ofd,) = await self._runner.run_checked([read_task("ofdExchangeStatus")])
        params = self._decode(codec.fiscal_params, result, self._zone)
        unsent, oldest = self._decode(codec.ofd_backlog, ofd, self._zone)
        return CalculationStateReport(
            fd=params.fd,
            fp=params.fp or 0,
            unsent_docs=unsent,
            oldest_unsent=None if oldest is None else oldest.date(),
        )

    async def open_drawer(self) -> None:
        """``openCashDrawer``."""
        async with self._lock:
            await self._runner.run_checked([read_task("openCashDrawer")])

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """``cashIn``: the drawer's balance after it (ATOL numbers no cash movement)."""
        return await self._cash("cashIn", amount)

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """``cashOut``; ATOL 80 (above the drawer) raises NotEnoughCash."""
        return await self._cash("cashOut", amount)

    async def _cash(self, kind: str, amount: Kopecks) -> CashMovement:
        async with self._lock:
            (result,) = await self._runner.run_checked([cash_task(kind, amount)])
        return self._decode(codec.cash_movement, result)

    # --- receipts --------------------------------------------------------------------------

    async def register(self, receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        """One ``sell``/``sellReturn`` (or correction) task under the attempt's uuid.

        Attempts before ``ref.attempt`` are waited on first: a new uuid goes out only when
        every earlier one is final. A 409 reads the earlier result. A receipt whose run was
        doubtful (409, ``blocked``) or whose result lacks fields is read back from the FN and
        accepted only when it carries ``ref.mark``; anything else raises
        :class:`~agent.drivers.atol.errors.TaskOutcomeUnknown` for recovery.
        """
        task = receipt_task(receipt, mark=ref.mark, taxation_type=self._params.tax_system)
        async with self._lock:
            await self._earlier_attempts_not_issued(ref, receipt)
            run = await self._runner.run([task], uuid=receipt_task_uuid(ref.id, ref.attempt))
            (result,) = self._runner.check(run, [task])
            try:
                params = codec.fiscal_params(result, self._zone)
            except MalformedResult as exc:  # it ran: the receipt exists; recovery finds it
                raise TaskOutcomeUnknown(
                    task["type"], run.uuid, f"result unreadable: {exc}"
                ) from exc
            if params.not_printed:
                await self._continue_print()
            issued = None if run.is_doubtful else _issued(params, receipt, ref, self._fn_serial)
            if issued is None:
                issued = await self._read_back(params.fd, receipt, ref, run.uuid)
        if issued.fn:
            self._fn_serial = issued.fn
        self._log.debug("receipt issued", fd=issued.fd, number=issued.number, mark=ref.mark)
        return issued

    async def _earlier_attempts_not_issued(self, ref: ReceiptRef, receipt: Receipt) -> None:
        """Wait for attempts before ``ref.attempt``; refuse a new one when one was issued.

        A new uuid is safe only when every earlier task is final and none of them made a
        document: an earlier ``ready`` means the receipt exists, and recovery (by the mark)
        must record it instead of printing it again.
        """
        settled = await self._runner.settle(self._uuids(ref, below=True))
        for key, results in settled.items():
            if results and any(result.status is TaskStatus.READY for result in results):
                raise TaskOutcomeUnknown(
                    receipt_task_type(receipt), key, "an earlier attempt was issued"
                )

    async def _read_back(
        self, fd: int, receipt: Receipt, ref: ReceiptRef, uuid: str
    ) -> IssuedReceipt:
        """FD ``fd`` read back whole: ours only when it carries the mark."""
        task = receipt_task_type(receipt)
        try:
            document = await self._document(fd, whole=True)
        except DriverError as exc:
            raise TaskOutcomeUnknown(task, uuid, f"FD {fd} could not be read back: {exc}") from exc
        if document.mark != ref.mark:
            raise TaskOutcomeUnknown(task, uuid, f"FD {fd} does not carry the mark {ref.mark!r}")
        if document.shift is None or document.number is None:
            raise TaskOutcomeUnknown(task, uuid, f"FD {fd} read back without shift or number")
        return IssuedReceipt(
            fn=self._fn_serial or "",
            fd=document.fd,
            fp=document.fp,
            shift=document.shift,
            number=document.number,
            issued_at=document.issued_at,
            change=receipt.change,
            mark=ref.mark,
        )

    async def _continue_print(self) -> None:
        """``continuePrint`` after a receipt closed but not fully printed; a failure is logged."""
        self._log.warning("receipt signed but not printed: continuing the print")
        try:
            await self._runner.run_checked([read_task("continuePrint")])
        except DriverError as exc:
            self._log.warning("continuePrint failed", error=str(exc))

    async def settle(self, ref: ReceiptRef) -> None:
        """Poll the tasks of attempts 1..``ref.attempt`` until each is final or unknown."""
        async with self._lock:
            await self._runner.settle(self._uuids(ref, below=False))  # finality is enough here

    @staticmethod
    def _uuids(ref: ReceiptRef, *, below: bool) -> list[str]:
        last = ref.attempt - 1 if below else ref.attempt
        return [receipt_task_uuid(ref.id, attempt) for attempt in range(1, last + 1)]

    async def cancel_receipt(self) -> None:
        """No receipt stays open between two ATOL tasks: always ReceiptNotOpen."""
        raise ReceiptNotOpen(0, 0, "no receipt stays open on an ATOL register between tasks")

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _decode(decoder: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a codec; a result it cannot read is MalformedPayload (a protocol error)."""
        try:
            return decoder(*args, **kwargs)
        except MalformedResult as exc:
            raise MalformedPayload(0, f"ATOL result: {exc}") from exc


def _issued(
    params: codec.FiscalParams, receipt: Receipt, ref: ReceiptRef, fn_serial: str | None
) -> IssuedReceipt | None:
    """The receipt from its fiscal params, or None when a field is missing."""
    fn = params.fn or fn_serial
    if (
        params.fp is None
        or params.issued_at is None
        or params.shift is None
        or params.number is None
        or fn is None
    ):
        return None
    return IssuedReceipt(
        fn=fn,
        fd=params.fd,
        fp=params.fp,
        shift=params.shift,
        number=params.number,
        issued_at=params.issued_at,
        change=receipt.change,
        mark=ref.mark,
    )


if TYPE_CHECKING:

    def _implements_fiscal_driver(driver: AtolDriver) -> FiscalDriver:
        """Type-checked proof that AtolDriver satisfies the FiscalDriver protocol."""
        return driver
