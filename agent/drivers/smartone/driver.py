"""The SmartOne driver: FiscalDriver over the Azsmart e-kassa cashbox's local HTTP API.

Layer 4 (docs/style.md §1); docs/smartone-driver.md says how the agent's interface maps onto
the cashbox. Every operation is one or a few signed POSTs (:mod:`~.exchange`), built and
read by pure codecs (:mod:`~.codec`, :mod:`~.replies`, :mod:`~.counters`). One driver
method runs at a time (an ``asyncio.Lock``).

Receipts are exactly-once by the cashbox's own key: ``documentExtID`` is the request's id
(``ref.id``) on every try and every attempt, so the cashbox answers a resend with the
document it already has and never makes a second one. A refused receipt stored nothing, so
the same id is free for the next try. :meth:`SmartOneDriver.find_receipt` asks the cashbox
for a request's receipt by that key (:class:`~agent.drivers.interface.FindsReceiptsByRequest`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final

import structlog

from agent.domain.money import Kopecks
from agent.domain.receipt import (
    Cashier,
    Receipt,
    ReceiptKind,
)
from agent.drivers.errors import (
    CommandNotSupported,
    CorrectionNotSupported,
    DeviceError,
    DocumentNotFound,
    MalformedPayload,
    ReceiptNotOpen,
    ShiftNotOpen,
)
from agent.drivers.interface import (
    CalculationStateReport,
    CashMovement,
    DeviceInfo,
    DocumentType,
    FiscalDocument,
    FnState,
    FnWarning,
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
from agent.drivers.smartone import codec
from agent.drivers.smartone.counters import shift_counters
from agent.drivers.smartone.documents import (
    document_fd,
    document_payments,
    shift_state,
)
from agent.drivers.smartone.errors import AuthorizationRefused, RequestNotFound
from agent.drivers.smartone.exchange import Exchange
from agent.drivers.smartone.numbering import ShiftNumbers
from agent.drivers.smartone.params import SmartOneParams, masked
from agent.drivers.smartone.replies import (
    ShiftReply,
    document_reply,
    info_reply,
    shift_totals,
)
from agent.drivers.smartone.shift_ops import ShiftOps
from agent.drivers.smartone.transport import HttpStatus

if TYPE_CHECKING:
    from agent.drivers.interface import FindsReceiptsByRequest, FiscalDriver

__all__ = ["LAST_FD", "MODEL", "SENT_KEPT", "SmartOneDriver"]

MODEL: Final = "SmartOne"
SENT_KEPT: Final = 64
"""Receipts whose kind and total the driver remembers for :meth:`SmartOneDriver.find_receipt`
(``/check_status`` does not say whether a document is a sale or a refund)."""
LAST_FD: Final = 0
"""What the driver reports as the last FD: the cashbox has no FN counter to read
(``/last_document``'s fields are unconfirmed), so recovery asks by request
(:meth:`SmartOneDriver.find_receipt`) instead of reading documents after an FD."""


class SmartOneDriver:
    """A SmartOne cashbox behind :class:`agent.drivers.interface.FiscalDriver`."""

    def __init__(
        self,
        params: SmartOneParams,
        *,
        log: structlog.typing.FilteringBoundLogger | None = None,
    ) -> None:
        self._params = params
        self._log = (log or structlog.get_logger("agent.drivers.smartone")).bind(
            merchant=masked(params.merchant_id)
        )
        self._exchange = Exchange(params, log=self._log)
        self._zone: tzinfo = params.zone or UTC
        self._lock = asyncio.Lock()
        self._fn = f"smartone:{params.merchant_id[:8]}"
        self._shift: ShiftReply | None = None
        self._numbers = ShiftNumbers(SENT_KEPT)
        self._sent: dict[str, tuple[ReceiptKind, Kopecks]] = {}  # the last SENT_KEPT receipts
        self._ops = ShiftOps(self._exchange, params, log=self._log)

    # --- link ------------------------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        """``/get_info`` for the serial (the fallback is the merchant id's head), then the shift.

        A refused signature shows here, before any receipt: code 1 raises
        :class:`~agent.drivers.smartone.errors.AuthorizationRefused`.
        """
        async with self._lock:
            try:
                info = await self._exchange.read("/get_info", {}, info_reply)
            except AuthorizationRefused:
                raise
            except (DeviceError, MalformedPayload, HttpStatus) as exc:
                self._log.info("get_info unavailable: the serial falls back", error=str(exc))
            else:
                if info.serial:
                    self._fn = info.serial
            self._shift = await self._ops.check_shift()
        self._log.info("cashbox connected", serial=self._fn, url=self._exchange.http.url)
        return DeviceInfo(model=MODEL, serial=self._fn, fn_serial=self._fn)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._exchange.http.aclose()

    # --- reads -----------------------------------------------------------------------------

    async def read_state(self) -> RegisterState:
        """``/check_shift``; the rest is neutral: the cashbox reports no paper, cover or mode.

        Owed receipt copies (code 15) are asked for first (:mod:`~.copies`).
        """
        async with self._lock:
            await self._exchange.copies.print_owed(self._print_copy)
        shift = await self._check_shift()
        return RegisterState(
            device_mode=None,
            shift=shift_state(shift),
            shift_number=shift.shift_id or 0,
            is_receipt_open=False,
            is_printing=False,
            has_paper=True,
            is_cover_open=False,
            clock=self._now(),
            last_fd=LAST_FD,
        )

    async def read_ledger(self) -> LedgerState:
        """``/check_shift``; the clock is the cashbox's, from its replies' HTTP ``Date``."""
        shift = await self._check_shift()
        return LedgerState(
            fn_serial=self._fn,
            last_fd=LAST_FD,
            shift=shift_state(shift),
            shift_number=shift.shift_id or 0,
            is_receipt_open=False,
            clock=self._now(),
        )

    async def read_cash_drawer(self) -> Kopecks:
        """``/check_shift``'s ``cash``."""
        shift = await self._check_shift()
        if shift.cash is None:
            raise MalformedPayload(0, "SmartOne /check_shift: no cash field")
        return Kopecks(shift.cash)

    async def read_fn_state(self) -> FnState:
        """No FN behind this API: the serial, nothing unsent, no warnings, no expiry."""
        return FnState(
            serial=self._fn,
            last_fd=LAST_FD,
            valid_until=None,
            unsent_docs=0,
            oldest_unsent_at=None,
            warnings=FnWarning(0),
        )

    async def read_counters(self) -> ShiftCounters:
        """``/x_report``'s counters; VAT by rate from ``saleVatAmounts`` (:mod:`~.counters`)."""
        async with self._lock:
            totals = await self._exchange.read("/x_report", {}, shift_totals)
        shift = self._shift.shift_id if self._shift and self._shift.shift_id else 0
        return shift_counters(totals, self._params.tax_rate_codes, shift)

    async def read_tax_setup(self) -> TaxSetup:
        """The driver's own rates as a table: each line names its percent, nothing to read."""
        return named_rates_setup(self._params.tax_rate_codes, "VAT")

    # --- documents -------------------------------------------------------------------------

    async def find_document(self, fd: int) -> FiscalDocument:
        """The cashbox has no "document N" read: always DocumentNotFound (see find_receipt)."""
        raise DocumentNotFound(0, 0, fd)

    async def read_document(self, fd: int) -> FiscalDocument:
        """As :meth:`find_document`: the cashbox keeps documents by request key only."""
        raise DocumentNotFound(0, 0, fd)

    async def find_receipt(self, ref: ReceiptRef) -> FiscalDocument | None:
        """``/check_status`` by ``documentExtID`` = ``ref.id``: the document, or None (code 9).

        While it is still processing, polls as a receipt does and raises
        :class:`~agent.drivers.smartone.errors.StillProcessing` past the timeout. The
        document has ``doc_id`` (``fiscalID``), ``total`` and ``payments`` from
        ``totalPayments`` and ``mark`` = ``ref.mark``; its lines are not read (``/check_copy``
        prints a copy on paper), and its kind and total are known only for a receipt this
        driver sent since it started (``totalPayments`` may hold the cash tendered, change
        included: the device's docs do not say).
        """
        async with self._lock:
            reply = await self._exchange.status(ref.id)
            if reply is not None and not reply.is_closed:
                try:
                    reply = await self._exchange.poll("/check_status", ref.id)
                except RequestNotFound:  # rolled back while it was processing
                    reply = None
            if reply is not None and self._shift is None:  # the shift the receipt may be in
                self._shift = await self._ops.check_shift()
        if reply is None:
            return None
        sent = self._sent.get(ref.id)
        payments = document_payments(reply)
        issued_at = self._time(reply.print_time or reply.doc_time)
        shift_id = self._shift_of(issued_at)
        return FiscalDocument(
            fd=document_fd(reply),
            type=DocumentType.RECEIPT,
            fp=0,
            issued_at=issued_at,
            shift=shift_id,
            number=None if shift_id is None else self._numbers.number(ref.id, shift_id),
            kind=None if sent is None else sent[0],
            total=None if sent is None else sent[1],  # totalPayments may count change
            payments=payments,
            mark=ref.mark,
            doc_id=reply.fiscal_id,
            is_whole=True,
        )

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's ``shiftOpenAt`` as an OPEN_SHIFT document (fd 0, fp 0).

        The cashbox flags no 24-hour limit: the shift stays OPEN and the agent's guard
        rotates it by this document's age.
        """
        if state.shift is ShiftState.CLOSED:
            return None
        shift = self._shift if self._shift is not None else await self._check_shift()
        if not shift.is_open:
            return None
        if shift.open_at is None:
            self._log.warning("check_shift gave no shiftOpenAt: the shift's age is unknown")
            return None
        return FiscalDocument(
            fd=0,
            type=DocumentType.OPEN_SHIFT,
            fp=0,
            issued_at=self._time(shift.open_at),
            shift=shift.shift_id,
        )

    # --- shift, reports, drawer ------------------------------------------------------------

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        """``/open_shift`` after ``/check_shift`` (an open shift raises ShiftAlreadyOpen)."""
        async with self._lock:
            self._shift, document = await self._ops.open_shift(self._employee(cashier))
        return self._shift_document(document)

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        """``/close_shift`` (Z) by the Z policy of :class:`~.shift_ops.ShiftOps`.

        The Z's own counters come with it (the reply carries them), so a withdrawal the
        policy made before the close shows in the shift report as a cash out.
        """
        async with self._lock:
            self._shift, document, totals = await self._ops.close_shift(self._employee(cashier))
        closed = self._shift_document(document)
        if totals is None:  # the answer was lost and the close shown by /check_shift
            return closed
        counters = shift_counters(totals, self._params.tax_rate_codes, closed.shift)
        return replace(closed, counters=counters)

    async def x_report(self) -> None:
        """``/x_report`` (the cashbox prints it; no fiscal document)."""
        async with self._lock:
            await self._exchange.read("/x_report", {}, shift_totals)

    async def calculation_state_report(self) -> CalculationStateReport:
        """No such report on this cashbox."""
        raise CommandNotSupported(0, 0, "the SmartOne cashbox has no calculation-state report")

    async def open_drawer(self) -> None:
        """No drawer command in the cashbox's API."""
        raise CommandNotSupported(0, 0, "the SmartOne cashbox's API has no open-drawer route")

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """``/deposit`` under a derived ``documentExtID`` (:func:`~.params.cash_key`)."""
        async with self._lock:
            self._shift, movement = await self._ops.cash("/deposit", amount)
        return movement

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """``/withdraw``; above the drawer (code 9) raises NotEnoughCash."""
        async with self._lock:
            self._shift, movement = await self._ops.cash("/withdraw", amount)
        return movement

    # --- receipts --------------------------------------------------------------------------

    async def register(self, receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        """``/sale`` or ``/refund`` under ``documentExtID`` = ``ref.id`` (every attempt).

        A lost answer is resent once, the same request; code 44 or ``docStatus`` 0 is polled
        with ``/check_status``; code 15 (not printed) is checked there too and reported
        issued when the cashbox has it. Code 6 (no shift) while ``/check_shift`` shows the
        shift open raises ShiftExpired (:meth:`~.shift_ops.ShiftOps.receipt_refused`). A
        correction receipt raises CorrectionNotSupported before anything is sent.
        """
        if receipt.correction is not None:
            raise CorrectionNotSupported("SmartOne")
        async with self._lock:  # the customer before us still has no paper: print it first
            await self._exchange.copies.print_owed(self._print_copy)
        route = codec.receipt_route(receipt)
        body = codec.receipt_request(receipt, key=ref.id, employee_name=self._params.employee_name)
        log = self._log.bind(receipt_id=ref.id, route=route)
        async with self._lock:
            self._remember(ref.id, receipt)
            try:
                reply = await self._exchange.document(route, body, ref.id)
            except ShiftNotOpen as exc:
                shift, error = await self._ops.receipt_refused(exc, route)
                self._shift = shift or self._shift
                raise error from exc
            shift = self._shift if self._shift is not None else await self._ops.check_shift()
            self._shift = shift
        shift_id = shift.shift_id or 0
        number = self._numbers.number(ref.id, shift_id)
        issued = IssuedReceipt(
            fn=self._fn,
            fd=document_fd(reply),
            fp=0,
            shift=shift_id,
            number=number,
            issued_at=self._time(reply.print_time or reply.doc_time),
            change=receipt.change,
            mark=ref.mark,
            doc_id=reply.fiscal_id,
        )
        if reply.print_error:
            log.warning(
                "receipt fiscalised, printer reported an error", print_error=reply.print_error
            )
        log.info("receipt issued", fd=issued.fd, doc_id=issued.doc_id, shift=shift_id)
        return issued

    async def settle(self, ref: ReceiptRef) -> None:
        """Poll ``/check_status`` until the request's document is final (or absent)."""
        async with self._lock:
            reply = await self._exchange.status(ref.id)
            if reply is not None and not reply.is_closed:
                with contextlib.suppress(RequestNotFound):  # rolled back: nothing pending
                    await self._exchange.poll("/check_status", ref.id)

    async def cancel_receipt(self) -> None:
        """No receipt stays open over this API: always ReceiptNotOpen."""
        raise ReceiptNotOpen(0, 0, "no receipt stays open on a SmartOne cashbox between requests")

    # --- helpers ---------------------------------------------------------------------------

    async def _check_shift(self) -> ShiftReply:
        async with self._lock:
            self._shift = await self._ops.check_shift()
            return self._shift

    def _remember(self, key: str, receipt: Receipt) -> None:
        """Keep the kind and total of the last :data:`SENT_KEPT` receipts sent."""
        self._sent.pop(key, None)
        self._sent[key] = (receipt.kind, receipt.total)
        while len(self._sent) > SENT_KEPT:
            del self._sent[next(iter(self._sent))]

    async def _print_copy(self, document_id: int) -> object:
        """``/check_copy`` of one document (the cashbox prints its copy)."""
        return await self._exchange.send("/check_copy", {"documentID": document_id}, document_reply)

    def _shift_of(self, issued_at: datetime) -> int | None:
        """The open shift, when a document of ``issued_at`` was printed in it; else None.

        ``/check_status`` names no shift: a receipt printed since the open shift began is
        that shift's (the guard closes no shift while a receipt is in doubt); one printed
        before it belongs to a shift closed at the cashbox meanwhile, and is left unnamed.
        """
        shift = self._shift
        if shift is None or not shift.is_open or not shift.shift_id:
            return None
        if shift.open_at is not None and issued_at < self._time(shift.open_at):
            return None
        return shift.shift_id

    def _employee(self, cashier: Cashier) -> str:
        return self._params.employee_name or cashier.name

    def _now(self) -> datetime:
        """The cashbox's clock: the host's plus the offset its replies' ``Date`` showed."""
        offset = self._exchange.http.clock_offset or timedelta(0)
        # Whole seconds, as the Date header states it (and as a register's clock reads).
        return (datetime.now(self._zone) + offset).replace(microsecond=0)

    def _time(self, wall: datetime | None) -> datetime:
        """A cashbox wall time made aware in its zone; the host's now when it gave none."""
        if wall is None:
            return self._now()
        return wall.replace(tzinfo=self._zone)

    def _shift_document(self, document: tuple[int, int, datetime | None]) -> ShiftDocument:
        shift, fd, when = document
        return ShiftDocument(shift=shift, fd=fd, fp=0, issued_at=self._time(when))


if TYPE_CHECKING:

    def _implements_fiscal_driver(driver: SmartOneDriver) -> FiscalDriver:
        """Type-checked proof that SmartOneDriver satisfies the FiscalDriver protocol."""
        return driver

    def _finds_receipts_by_request(driver: SmartOneDriver) -> FindsReceiptsByRequest:
        """Type-checked proof that it answers recovery by request key."""
        return driver
