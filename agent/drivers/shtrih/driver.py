"""The Shtrih-M driver: FiscalDriver over the command codec, the link machine and a transport.

Layer 4 (docs/style.md §1). One request is in flight at a time, and one driver method runs at a
time (an ``asyncio.Lock`` around each public method, so a status poll never lands between the
lines of a receipt). The bytes travel through :class:`~agent.drivers.shtrih.session.ShtrihSession`
(the transport, the sans-IO link machine and its reader task). Parameters live in
:mod:`agent.drivers.shtrih.params`, the error mapping in
:mod:`agent.drivers.shtrih.device_errors`; both are re-exported here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, TypeVar

import structlog

from agent.domain.money import Kopecks
from agent.domain.receipt import Cashier, Receipt, ReceiptKind
from agent.drivers.clock_zone import ClockZone, format_utc_offset, settle_zone
from agent.drivers.errors import (
    DeviceError,
    DocumentNotFound,
    DriverError,
    PaperOut,
    PrinterBusy,
    ProtocolError,
    ReceiptAlreadyOpen,
    ShiftAlreadyOpen,
    ShiftNotOpen,
    UnexpectedResponse,
)
from agent.drivers.interface import (
    MARK_NAME,
    CalculationStateReport,
    CashMovement,
    DeviceInfo,
    DocumentType,
    FiscalDocument,
    FiscalDriver,
    FnState,
    FnWarning,
    IssuedReceipt,
    LedgerState,
    RegisterState,
    ShiftCounters,
    ShiftDocument,
    ShiftState,
    ShiftView,
    TaxSetup,
)
from agent.drivers.shtrih.commands import (
    FN_PAYMENT_TYPES,
    MAX_TLV_BYTES,
    AddOperationRequest,
    AddOperationResponse,
    BeginCloseShiftRequest,
    BeginCloseShiftResponse,
    BeginCorrectionRequest,
    BeginCorrectionResponse,
    BeginOpenShiftRequest,
    BeginOpenShiftResponse,
    BeginReadDocumentRequest,
    BeginReadDocumentResponse,
    CancelReceiptRequest,
    CancelReceiptResponse,
    CashInRequest,
    CashInResponse,
    CashOutRequest,
    CloseReceiptRequest,
    CloseReceiptResponse,
    Command,
    ContinuePrintRequest,
    ContinuePrintResponse,
    DeviceErrorCode,
    ErrorResponse,
    FindDocumentRequest,
    FindDocumentResponse,
    FnDocument,
    FnDocumentType,
    FnErrorCode,
    Mode,
    OpenDrawerRequest,
    OpenDrawerResponse,
    OpenShiftRequest,
    OpenShiftResponse,
    OperationType,
    PrintXReportRequest,
    PrintXReportResponse,
    PrintZReportRequest,
    PrintZReportResponse,
    ReadDeviceTypeRequest,
    ReadDeviceTypeResponse,
    ReadDocumentBlockRequest,
    ReadDocumentBlockResponse,
    ReadExchangeStatusRequest,
    ReadExchangeStatusResponse,
    ReadFnExpiryRequest,
    ReadFnExpiryResponse,
    ReadFnStatusRequest,
    ReadFnStatusResponse,
    ReadMoneyRegisterRequest,
    ReadMoneyRegisterResponse,
    ReadOperatingRegisterRequest,
    ReadOperatingRegisterResponse,
    ReadShiftParamsRequest,
    ReadShiftParamsResponse,
    ReadShortStatusRequest,
    ReadShortStatusResponse,
    ReadStatusRequest,
    ReadStatusResponse,
    Request,
    Response,
    StateReportRequest,
    StateReportResponse,
    StatusFlags,
    Submode,
    Tag,
    TlvItem,
    WriteTlvRequest,
    WriteTlvResponse,
    decode_response,
    encode,
    tlv_stlv,
    tlv_string,
)
from agent.drivers.shtrih.correction_tags import correction_tags
from agent.drivers.shtrih.device_errors import device_error
from agent.drivers.shtrih.documents import attach_zone, decode_document
from agent.drivers.shtrih.frame import Frame
from agent.drivers.shtrih.params import (
    ANSWER_TIMEOUT_S,
    DEFAULT_ANSWER_TIMEOUT_S,
    DEFAULT_TAX_RATE_INDEX,
    FRAME_LOG_SIZE,
    PAYMENT_TYPE_CARD,
    PAYMENT_TYPE_CASH,
    PAYMENT_TYPE_PREPAID,
    PRINT_POLL_INTERVAL_S,
    PRINT_WAIT_S,
    SHIFT_SCAN_LIMIT,
    DriverParams,
)
from agent.drivers.shtrih.registers import (
    CASH_IN_DRAWER,
    OPEN_MODES,
    RECEIPT_COUNTS,
    read_counters,
    read_tax_setup,
)
from agent.drivers.shtrih.session import ShtrihSession
from agent.transport import ByteStream

__all__ = [
    "ANSWER_TIMEOUT_S",
    "DEFAULT_ANSWER_TIMEOUT_S",
    "DEFAULT_TAX_RATE_INDEX",
    "FRAME_LOG_SIZE",
    "MAX_MARK_BYTES",
    "PAYMENT_TYPE_CARD",
    "PAYMENT_TYPE_CASH",
    "PAYMENT_TYPE_PREPAID",
    "PRINT_POLL_INTERVAL_S",
    "PRINT_WAIT_S",
    "SHIFT_SCAN_LIMIT",
    "DriverParams",
    "ShtrihDriver",
    "device_error",
]


CLOCK_ESTIMATE_MAX_AGE_S = 60.0
"""How long the register's clock is estimated from one 0x11 answer before it is read again."""
CLOCK_FORWARD_TOLERANCE = timedelta(minutes=2)
"""FF01's date-time (minute precision) this far past the estimate: the clock was set forward."""

_PAPER_OUT_SUBMODES = frozenset({Submode.PAPER_OUT_PASSIVE, Submode.PAPER_OUT_ACTIVE})
_PRINTING_SUBMODES = frozenset({Submode.PRINTING_REPORT, Submode.PRINTING})
_OPERATION_BY_KIND = {
    ReceiptKind.SALE: OperationType.INCOME,
    ReceiptKind.REFUND: OperationType.INCOME_RETURN,
}
_KIND_BY_OPERATION = {int(v): k for k, v in _OPERATION_BY_KIND.items()}
_REDACTED_COMMANDS = frozenset({Command.WRITE_TLV})
_IDLE_MODES = frozenset({Mode.SHIFT_OPEN, Mode.SHIFT_EXPIRED, Mode.SHIFT_CLOSED})
_WHOLE_IN_HEADER = frozenset(
    {FnDocumentType.REGISTRATION, FnDocumentType.OPEN_SHIFT, FnDocumentType.CLOSE_SHIFT}
)
_TLV_ENCODING = "cp866"  # FFD strings (docs/fn-documents.md §2)
_TLV_HEADER_BYTES = 4
_MAX_DRAIN_BLOCKS = 4096

MAX_MARK_BYTES: Final = MAX_TLV_BYTES - 3 * _TLV_HEADER_BYTES - len(MARK_NAME.encode(_TLV_ENCODING))
"""The longest mark (CP866 bytes) whose tag 1084 still fits one FF0C: 231."""

_R = TypeVar("_R", bound=Response)


def _host_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class _ShiftCursor:
    """Where the driver's count of the shift stands: counted forward from FF45's FD."""

    shift: int
    number: int  # the last receipt's number in the shift (0 right after the open)
    fd: int  # the last FD this count accounts for


class ShtrihDriver:
    """A ШТРИХ-М FN-era register behind :class:`agent.drivers.interface.FiscalDriver`."""

    def __init__(
        self,
        *,
        transport: ByteStream,
        params: DriverParams | None = None,
        log: structlog.typing.FilteringBoundLogger,
        host_clock: Callable[[], datetime] = _host_utc,
        on_round_trip: Callable[[str, float], None] | None = None,
    ) -> None:
        """``host_clock`` is the host's aware clock, against which "auto" measures the zone.

        ``on_round_trip`` hears each answered exchange: the command's name (``0x10``,
        ``FF45``) and its round trip in seconds (metrics, without the driver knowing of them).
        """
        self._params = params or DriverParams()
        self._log = log
        self._host_clock = host_clock
        self._zone: tzinfo | None = self._params.tz  # until connect settles it
        self._session = ShtrihSession(
            transport=transport,
            params=self._params,
            log=log,
            on_reopen=self._forget,
            on_round_trip=on_round_trip,
        )
        self._lock = asyncio.Lock()
        self._fn_serial: str | None = None
        self._open_documents: dict[tuple[str, int], FiscalDocument] = {}
        self._needs_ready_check = True  # a 0x10 before the next receipt (see _track)
        self._cursor: _ShiftCursor | None = None  # see _count_receipt
        self._clock_anchor: tuple[datetime, float] | None = None  # see read_ledger

    # --- FiscalDriver ----------------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        """Open the link and identify the register (0xFC, 0x11, FF01); settle its zone.

        The zone is ``params.tz`` when configured; otherwise the register's 0x11 clock minus
        the host's UTC clock, rounded to a quarter hour, as a fixed offset (see
        :mod:`agent.drivers.clock_zone`). It is measured on every connect either way, so a
        configured zone that disagrees is reported (``clock_zone.is_mismatch``).
        """
        async with self._lock:
            await self._session.ensure_open()
            device = await self._call(ReadDeviceTypeRequest(), ReadDeviceTypeResponse)
            status = await self._full_status()
            zone = settle_zone(self._params.tz, status.clock, self._host_clock())
            self._settle(zone, status)
            fn = await self._read_fn_status()
        serial = "" if status.serial is None else str(status.serial)
        self._log.info("register connected", model=device.name, serial=serial, fn=fn.fn_serial)
        return DeviceInfo(model=device.name, serial=serial, fn_serial=fn.fn_serial, clock_zone=zone)

    def _settle(self, zone: ClockZone, status: ReadStatusResponse) -> None:
        """Use ``zone`` from now on; the clock estimate is re-anchored in it; log the choice.

        Open-shift documents cached in another zone are dropped: every time of one connection
        is read in one zone, so the shift's age stays the register's own wall-clock difference
        (what its 24-hour lock counts) after its clock was moved.
        """
        if zone.zone != self._zone:
            self._open_documents.clear()
        self._zone = zone.zone
        if self._clock_anchor is not None:
            self._clock_anchor = (self._aware(status.clock), self._clock_anchor[1])
        fields = {
            "source": zone.source.value,
            "utc_offset": format_utc_offset(zone.utc_offset),
            "measured": format_utc_offset(zone.measured),
        }
        if zone.is_mismatch:
            self._log.warning("register clock disagrees with the configured zone", **fields)
        elif zone.is_fallback:
            self._log.warning(
                "register clock is no zone's time: the host's offset is used", **fields
            )
        else:
            self._log.info("register clock zone", **fields)

    async def aclose(self) -> None:
        """Stop the reader and close the transport."""
        await self._session.aclose()

    async def read_state(self) -> RegisterState:
        """0x10 + 0x11 + FF01 (the drawer is :meth:`read_cash_drawer`)."""
        async with self._lock:
            short = await self._short_status()
            status = await self._full_status()
            fn = await self._read_fn_status()
        shift = _shift_state(short.mode, is_fn_shift_open=fn.is_shift_open)
        return RegisterState(
            mode=int(short.mode),
            submode=int(short.submode),
            shift=shift,
            shift_number=status.last_closed_shift + (shift is not ShiftState.CLOSED),
            is_receipt_open=short.mode == Mode.DOCUMENT_OPEN,
            is_printing=short.submode in _PRINTING_SUBMODES,
            has_paper=StatusFlags.RECEIPT_PAPER in short.flags
            and short.submode not in _PAPER_OUT_SUBMODES,
            is_cover_open=StatusFlags.COVER_OPEN in short.flags,
            clock=self._aware(status.clock),
            last_fd=fn.last_fd,
        )

    async def read_cash_drawer(self) -> Kopecks:
        """Money register 241: the cash in the drawer."""
        async with self._lock:
            return Kopecks(await self._money_register(CASH_IN_DRAWER))

    async def read_fn_state(self) -> FnState:
        """FF01 + FF03 + FF39."""
        async with self._lock:
            fn = await self._read_fn_status()
            expiry = await self._call(ReadFnExpiryRequest(password=self._sys), ReadFnExpiryResponse)
            exchange = await self._call(
                ReadExchangeStatusRequest(password=self._sys), ReadExchangeStatusResponse
            )
        oldest = exchange.first_queued_at
        return FnState(
            serial=fn.fn_serial,
            last_fd=fn.last_fd,
            valid_until=expiry.valid_until,
            unsent_docs=exchange.queued,
            oldest_unsent_at=None if oldest is None else self._aware(oldest),
            warnings=FnWarning(int(fn.warnings)),
        )

    async def read_counters(self) -> ShiftCounters:
        """0x11, the money and operating registers of the shift, and its VAT by rate.

        Round trips: 12, plus two per tax row with VAT that ``tax_rate_index`` maps (20
        with the default table); see :func:`agent.drivers.shtrih.registers.read_counters`.
        """
        async with self._lock:
            return await read_counters(
                self._call,
                password=self._op,
                tax_rate_index=self._params.tax_rate_index,
                log=self._log,
            )

    async def read_tax_setup(self) -> TaxSetup:
        """0x1F: the tax mode (table 1) and the tax table (table 6), sysadmin password.

        About 26 round trips: once a connect, never per receipt (see
        :func:`agent.drivers.shtrih.registers.read_tax_setup`).
        """
        async with self._lock:
            return await read_tax_setup(self._call, password=self._sys, log=self._log)

    async def find_document(self, fd: int) -> FiscalDocument:
        """FF0A; raises :class:`DocumentNotFound` when the FN has no such document."""
        async with self._lock:
            found = await self._find(fd)
        return self._fiscal_document(found)

    async def read_document(self, fd: int) -> FiscalDocument:
        """FF0A, then FF3A and FF3B unless the header already is the whole document.

        A registration or shift document holds nothing :class:`FiscalDocument` keeps beyond
        what FF0A answers, so one round trip reads it whole. Any other document (a receipt)
        is read back as TLV (docs/fn-documents.md §3) and checked against the header: the
        same FD and FP, or :class:`UnexpectedResponse`. Raises :class:`DocumentNotFound`
        when the FN has no such document.
        """
        async with self._lock:
            if self._needs_ready_check:  # after a failure: maybe a read left half done
                await self._leave_data_output()
            header = await self._find(fd)
            if header.document_type in _WHOLE_IN_HEADER:
                return replace(self._fiscal_document(header), is_whole=True)
            document = await self._read_tlv_document(fd)
        if (document.fd, document.fp) != (header.fd, header.fp):
            detail = (
                f"FF3B read FD {document.fd} FP {document.fp}; "
                f"FF0A found FD {header.fd} FP {header.fp}"
            )
            raise UnexpectedResponse(Command.READ_DOCUMENT_BLOCK, detail)
        return document

    async def read_ledger(self) -> LedgerState:
        """FF01, and 0x11 only when the driver cannot vouch for the shift number or clock.

        The register's clock is estimated from the last 0x11 answer plus the monotonic time
        since, for up to :data:`CLOCK_ESTIMATE_MAX_AGE_S`; FF01's date-time later than the
        estimate (the clock was set forward) sends a fresh 0x11 too. In steady state a
        receipt's intent costs this one round trip.
        """
        async with self._lock:
            fn = await self._read_fn_status()
            clock = self._estimated_clock()
            cursor = self._cursor if fn.is_shift_open else None
            is_clock_moved = (
                clock is not None
                and fn.at is not None
                and (self._aware(fn.at) > clock + CLOCK_FORWARD_TOLERANCE)
            )
            shift = ShiftState.OPEN if fn.is_shift_open else ShiftState.CLOSED
            if clock is None or cursor is None or is_clock_moved:
                status = await self._full_status()
                clock = self._aware(status.clock)
                shift_number = status.last_closed_shift + fn.is_shift_open
                shift = _shift_state(status.mode, is_fn_shift_open=fn.is_shift_open)
            else:
                shift_number = cursor.shift
        return LedgerState(
            fn_serial=fn.fn_serial,
            last_fd=fn.last_fd,
            shift=shift,
            shift_number=shift_number,
            # A correction receipt left open (FF35 ... killed before FF45) is open too.
            is_receipt_open=fn.current_document in _OPEN_RECEIPT_DOCUMENTS,
            clock=clock,
        )

    def _estimated_clock(self) -> datetime | None:
        anchor = self._clock_anchor
        if anchor is None:
            return None
        clock, at = anchor
        elapsed = time.monotonic() - at
        if not 0 <= elapsed <= CLOCK_ESTIMATE_MAX_AGE_S:
            return None
        return clock + timedelta(seconds=elapsed)

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's open-shift document, read back with FF0A; None with no shift.

        Cached per FN and shift, so once found it costs no round trip at all.
        """
        if state.shift is ShiftState.CLOSED:
            return None
        async with self._lock:
            key = (await self._fn(), state.shift_number)
            if key not in self._open_documents:
                found = await self._find_open_shift(state.shift_number, state.last_fd)
                self._open_documents[key] = self._fiscal_document(found)
            return self._open_documents[key]

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        """FF41, FF0C (cashier), 0xE0; raises ShiftAlreadyOpen when a shift is open."""
        async with self._lock:
            short = await self._ready_status(Command.OPEN_SHIFT)
            if short.mode in OPEN_MODES:
                raise ShiftAlreadyOpen(
                    FnErrorCode.WRONG_FN_STATE,
                    Command.OPEN_SHIFT,
                    f"a shift is open (mode {short.mode})",
                )
            await self._printing(BeginOpenShiftRequest(password=self._sys), BeginOpenShiftResponse)
            await self._write_tags(_cashier_tags(cashier))
            await self._printing(OpenShiftRequest(password=self._op), OpenShiftResponse)
            document = await self._last_shift_document(
                FnDocumentType.OPEN_SHIFT, Command.OPEN_SHIFT
            )
            self._open_documents[(await self._fn(), document.shift)] = FiscalDocument(
                fd=document.fd,
                type=DocumentType.OPEN_SHIFT,
                fp=document.fp,
                issued_at=document.issued_at,
                shift=document.shift,
            )
            self._cursor = _ShiftCursor(shift=document.shift, number=0, fd=document.fd)
        self._log.info("shift opened", shift=document.shift, fd=document.fd)
        return document

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        """FF42, FF0C (cashier), 0x41 Z report; raises ShiftNotOpen when no shift is open.

        A shift past 24 hours refuses FN document commands (FN 0x16), so there the Z report
        goes alone, without the cashier's tags.
        """
        async with self._lock:
            short = await self._ready_status(Command.PRINT_Z_REPORT)
            if short.mode not in OPEN_MODES:
                raise ShiftNotOpen(
                    DeviceErrorCode.SHIFT_NOT_OPEN, Command.PRINT_Z_REPORT, "no shift is open"
                )
            if short.mode == Mode.DOCUMENT_OPEN:
                raise ReceiptAlreadyOpen(
                    DeviceErrorCode.RECEIPT_OPEN, Command.PRINT_Z_REPORT, "a receipt is open"
                )
            if short.mode == Mode.SHIFT_EXPIRED:
                self._log.warning("shift past 24 h: Z report without cashier tags")
            else:
                await self._printing(
                    BeginCloseShiftRequest(password=self._sys), BeginCloseShiftResponse
                )
                await self._write_tags(_cashier_tags(cashier))
            self._cursor = None
            await self._printing(PrintZReportRequest(password=self._sys), PrintZReportResponse)
            document = await self._last_shift_document(
                FnDocumentType.CLOSE_SHIFT, Command.PRINT_Z_REPORT
            )
        self._log.info("shift closed", shift=document.shift, fd=document.fd)
        return document

    async def x_report(self) -> None:
        """0x40: print an X report (no fiscal document)."""
        async with self._lock:
            await self._ready_status(Command.PRINT_X_REPORT)
            await self._printing(PrintXReportRequest(password=self._sys), PrintXReportResponse)

    async def calculation_state_report(self) -> CalculationStateReport:
        """FF38: the FN's calculation-state report, a printed FN document (FD type 21).

        It takes an FD but is no receipt: the count of receipts moves past it (the next
        receipt's FD is two past the last one counted, not one).
        """
        async with self._lock:
            await self._ready_status(Command.STATE_REPORT)
            answer = await self._printing(
                StateReportRequest(password=self._sys), StateReportResponse
            )
            cursor = self._cursor
            if cursor is not None and answer.fd == cursor.fd + 1:
                self._cursor = replace(cursor, fd=answer.fd)
            else:
                self._cursor = None
        self._log.info("calculation state report", fd=answer.fd, unsent=answer.unconfirmed)
        return CalculationStateReport(
            fd=answer.fd,
            fp=answer.fp,
            unsent_docs=answer.unconfirmed,
            oldest_unsent=answer.first_unconfirmed,
        )

    async def open_drawer(self) -> None:
        """0x28: open cash drawer 0 with the operator's password (no document)."""
        async with self._lock:
            await self._call(OpenDrawerRequest(password=self._op, drawer=0), OpenDrawerResponse)

    async def register(self, receipt: Receipt, *, mark: str) -> IssuedReceipt:
        """FF46 per item, one FF0C (cashier and mark), FF45; a refused receipt is cancelled.

        A receipt with ``correction`` is a correction receipt: FF35 first, and 1173 and
        1174/1178 in the same FF0C (docs/corrections.md; the sequence is unconfirmed on
        hardware).

        The mark travels as tag 1084 (1085 :data:`MARK_NAME`, 1086 the mark) in the same
        FF0C as the cashier's tags; the buyer's contact (1008) goes in an FF0C of its own,
        masked in the frame log. In steady state a one-item receipt is three round trips
        (docs/fn-documents.md §4): no 0x10 before FF46 while the driver can vouch that no
        receipt is open (a 0x50 or 0x58 refusal still waits for the printer), and no FF40
        while FF45's FD follows the last FD the driver counted.

        The FF46 amount field carries the line amount the agent computed (price x qty rounded
        half up): the register checks it within one kopeck, and the total the payments were
        checked against is then exactly the one the FN signs.

        Raises:
            ValueError: the mark is empty, not CP866 text, or longer than
                :data:`MAX_MARK_BYTES` (checked before anything is sent).
        """
        mark_tag = _mark_tag(mark)
        async with self._lock:
            if self._needs_ready_check:
                short = await self._ready_status(Command.ADD_OPERATION)
                if short.mode == Mode.DOCUMENT_OPEN:
                    raise ReceiptAlreadyOpen(
                        DeviceErrorCode.RECEIPT_OPEN,
                        Command.ADD_OPERATION,
                        "a receipt is already open; cancel it first",
                    )
            try:
                closed = await self._issue(receipt, mark_tag)
            except DriverError as exc:
                self._cursor = None
                if isinstance(exc, DeviceError):
                    self._log.warning(
                        "receipt refused", command=f"0x{exc.command:X}", code=exc.code
                    )
                    await self._cancel_after_refusal()
                raise
            shift, number = await self._count_receipt(closed.fd)
            issued_at = closed.issued_at
            if issued_at is None:
                issued_at = (await self._find(closed.fd)).issued_at
            fn_serial = await self._fn()
        self._log.debug("receipt issued", fd=closed.fd, shift=shift, number=number, mark=mark)
        return IssuedReceipt(
            fn=fn_serial,
            fd=closed.fd,
            fp=closed.fp,
            shift=shift,
            number=number,
            issued_at=self._aware(issued_at),
            change=Kopecks(closed.change),
            mark=mark,
        )

    async def cancel_receipt(self) -> None:
        """0x88: cancel the open receipt; raises ReceiptNotOpen when none is open."""
        async with self._lock:
            await self._printing(CancelReceiptRequest(password=self._op), CancelReceiptResponse)

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """0x50, then money register 241."""
        return await self._cash_movement(CashInRequest(password=self._op, amount=amount))

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """0x51, then money register 241; the register refuses more than the drawer holds."""
        return await self._cash_movement(CashOutRequest(password=self._op, amount=amount))

    # --- operations ------------------------------------------------------------------------

    @property
    def _op(self) -> int:
        return self._params.operator_password

    @property
    def _sys(self) -> int:
        return self._params.sysadmin_password

    def _aware(self, wall: datetime) -> datetime:
        """Attach the register's zone to a wall time read from the register."""
        return attach_zone(wall, self._zone)

    def _forget(self) -> None:
        """Stop vouching for the register: the next receipt polls 0x10 and reads FF40."""
        self._needs_ready_check = True
        self._cursor = None
        self._clock_anchor = None

    def _track(self, response: Response) -> None:
        """Keep what the driver can vouch for up to date with every answer it gets.

        A status read shows the mode: FF46 may go straight out only from an idle shift mode.
        An accepted FF46 opens a receipt; an accepted FF45 or 0x88 ends it. A full status
        anchors the estimate of the register's clock.
        """
        if isinstance(response, ReadStatusResponse):
            self._clock_anchor = (self._aware(response.clock), time.monotonic())
        if isinstance(response, ReadShortStatusResponse | ReadStatusResponse):
            self._needs_ready_check = response.mode not in _IDLE_MODES
        elif isinstance(response, AddOperationResponse | BeginCorrectionResponse):
            self._needs_ready_check = True
        elif isinstance(response, CloseReceiptResponse | CancelReceiptResponse):
            self._needs_ready_check = False

    async def _count_receipt(self, fd: int) -> tuple[int, int]:
        """The shift and number of the receipt FF45 just closed as ``fd``.

        Counted forward when ``fd`` follows the last FD the driver accounted for (nothing
        else can have printed in between); otherwise, and after a reconnect or a failure,
        read from FF40 once.
        """
        cursor = self._cursor
        if cursor is not None and fd == cursor.fd + 1:
            shift, number = cursor.shift, cursor.number + 1
        else:
            params = await self._call(
                ReadShiftParamsRequest(password=self._sys), ReadShiftParamsResponse
            )
            shift, number = params.shift, params.receipt_number
        self._cursor = _ShiftCursor(shift=shift, number=number, fd=fd)
        return shift, number

    async def _issue(self, receipt: Receipt, mark_tag: TlvItem) -> CloseReceiptResponse:
        """FF46 per line, FF0C, FF45; a correction receipt starts with FF35 and adds 1173/1174."""
        operation = _OPERATION_BY_KIND[receipt.kind]
        tags = [*_cashier_tags(receipt.cashier), mark_tag]
        if receipt.correction is not None:
            await self._printing(
                BeginCorrectionRequest(password=self._sys), BeginCorrectionResponse
            )
            tags = [*correction_tags(receipt.correction), *tags]
        for item in receipt.items:
            await self._printing(
                AddOperationRequest(
                    password=self._op,
                    operation=operation,
                    quantity=item.qty,
                    price=item.price,
                    amount=item.amount,
                    tax_rate=self._params.tax_rate_index[item.vat],
                    department=self._params.department,
                    payment_method=int(item.method),
                    payment_subject=int(item.subject),
                    name=item.name,
                ),
                AddOperationResponse,
            )
        await self._write_tags(tags)
        if receipt.customer_contact:
            tag = tlv_string(Tag.CUSTOMER_CONTACT, receipt.customer_contact)
            await self._write_tags([tag], is_sensitive=True)
        payments = [0] * FN_PAYMENT_TYPES
        payments[PAYMENT_TYPE_CASH - 1] = receipt.payments.cash
        payments[PAYMENT_TYPE_CARD - 1] = receipt.payments.card
        payments[PAYMENT_TYPE_PREPAID - 1] = receipt.payments.prepaid
        return await self._printing(
            CloseReceiptRequest(
                password=self._sys, payments=tuple(payments), tax_system=int(receipt.tax_system)
            ),
            CloseReceiptResponse,
        )

    async def _cancel_after_refusal(self) -> None:
        """Leave the register clean after a refused receipt: cancel it if one is open."""
        try:
            short = await self._call(
                ReadShortStatusRequest(password=self._op), ReadShortStatusResponse
            )
            if short.mode == Mode.DOCUMENT_OPEN:
                await self._printing(CancelReceiptRequest(password=self._op), CancelReceiptResponse)
                self._log.info("refused receipt cancelled")
        except DriverError as exc:
            self._log.warning("could not cancel the refused receipt", error=str(exc))

    async def _cash_movement(self, request: CashInRequest) -> CashMovement:
        async with self._lock:
            await self._ready_status(request.command)
            answer = await self._printing(request, CashInResponse)
            cash = await self._money_register(CASH_IN_DRAWER)
        return CashMovement(number=answer.document_number, cash_in_drawer=Kopecks(cash))

    async def _write_tags(self, tags: list[TlvItem], *, is_sensitive: bool = False) -> None:
        """FF0C, as many as the tags need at MAX_TLV_BYTES (249) each."""
        batch: list[TlvItem] = []
        size = 0
        for tag in tags:
            tag_size = len(tag.encode())
            if batch and size + tag_size > MAX_TLV_BYTES:
                await self._write_tag_batch(batch, is_sensitive=is_sensitive)
                batch, size = [], 0
            batch.append(tag)
            size += tag_size
        if batch:
            await self._write_tag_batch(batch, is_sensitive=is_sensitive)

    async def _write_tag_batch(self, batch: list[TlvItem], *, is_sensitive: bool) -> None:
        request = WriteTlvRequest(password=self._sys, items=tuple(batch))
        await self._printing(request, WriteTlvResponse, is_sensitive=is_sensitive)

    async def _read_fn_status(self) -> ReadFnStatusResponse:
        fn = await self._call(ReadFnStatusRequest(password=self._sys), ReadFnStatusResponse)
        self._fn_serial = fn.fn_serial
        return fn

    async def _fn(self) -> str:
        if self._fn_serial is None:
            return (await self._read_fn_status()).fn_serial
        return self._fn_serial

    async def _money_register(self, register: int) -> int:
        request = ReadMoneyRegisterRequest(password=self._op, register=register)
        return (await self._call(request, ReadMoneyRegisterResponse)).value

    async def _operating_register(self, register: int) -> int:
        request = ReadOperatingRegisterRequest(password=self._op, register=register)
        return (await self._call(request, ReadOperatingRegisterResponse)).value

    async def _full_status(self) -> ReadStatusResponse:
        return await self._call(ReadStatusRequest(password=self._op), ReadStatusResponse)

    async def _short_status(self) -> ReadShortStatusResponse:
        return await self._call(ReadShortStatusRequest(password=self._op), ReadShortStatusResponse)

    async def _read_tlv_document(self, fd: int) -> FiscalDocument:
        """FF3A, then FF3B until the length FF3A announced is read; decode the TLV.

        The blocks are joined before the TLV is split, so a block boundary inside a tag does
        no harm. An FN that ends the document early (FN 0x08 or an empty block) ends the read.
        """
        try:
            begun = await self._call(
                BeginReadDocumentRequest(password=self._sys, fd=fd), BeginReadDocumentResponse
            )
        except DeviceError as exc:
            if exc.code == FnErrorCode.NO_DATA:
                raise DocumentNotFound(exc.code, exc.command, fd) from exc
            raise
        data = bytearray()
        while len(data) < begun.length:
            block = await self._document_block()
            if not block:
                self._log.warning(
                    "FN ended the document before its length",
                    fd=fd,
                    length=begun.length,
                    read=len(data),
                )
                break
            data += block
        return decode_document(int(begun.document_type), bytes(data), tz=self._zone)

    async def _document_block(self) -> bytes:
        """One FF3B: the next block of the document, or nothing at its end (FN 0x08)."""
        try:
            answer = await self._call(
                ReadDocumentBlockRequest(password=self._sys), ReadDocumentBlockResponse
            )
        except DeviceError as exc:
            if exc.code == FnErrorCode.NO_DATA:
                return b""
            raise
        return answer.data

    async def _drain_document_output(self) -> None:
        """Read a document left half-read to its end: only that takes a register out of mode 1."""
        for _ in range(_MAX_DRAIN_BLOCKS):
            if not await self._document_block():
                return

    async def _find(self, fd: int) -> FindDocumentResponse:
        try:
            return await self._call(
                FindDocumentRequest(password=self._sys, fd=fd), FindDocumentResponse
            )
        except DeviceError as exc:
            if exc.code == FnErrorCode.NO_DATA:
                raise DocumentNotFound(exc.code, exc.command, fd) from exc
            raise

    def _fiscal_document(self, found: FindDocumentResponse) -> FiscalDocument:
        kind = None
        total = None
        if found.document_type in _MONEY_DOCUMENT_TYPES:
            kind = _KIND_BY_OPERATION.get(int(found.operation or 0))
            total = None if found.amount is None else Kopecks(found.amount)
        document_type: DocumentType | int = (
            DocumentType(found.document_type)
            if found.document_type in set(DocumentType)
            else int(found.document_type)
        )
        return FiscalDocument(
            fd=found.fd,
            type=document_type,
            fp=found.fp,
            issued_at=self._aware(found.issued_at),
            kind=kind,
            total=total,
            shift=found.shift,
        )

    async def _last_shift_document(self, expected: FnDocumentType, command: int) -> ShiftDocument:
        fn = await self._read_fn_status()
        found = await self._find(fn.last_fd)
        if found.document_type != expected or found.shift is None:
            detail = (
                f"last FD {found.fd} is a type {found.document_type} document, not {expected.name}"
            )
            raise UnexpectedResponse(command, detail)
        return ShiftDocument(
            shift=found.shift, fd=found.fd, fp=found.fp, issued_at=self._aware(found.issued_at)
        )

    async def _find_open_shift(self, shift: int, last_fd: int) -> FindDocumentResponse:
        """Read back from the last FD to the open-shift document of ``shift``.

        Most FDs since the shift opened are receipts, so the guess ``last FD - receipts in
        the shift`` usually hits at once; a calculation-state report in the shift makes it
        miss, and then the scan walks back one FD at a time.
        """
        receipts = 0
        for register in RECEIPT_COUNTS:
            receipts += await self._operating_register(register)
        guess = last_fd - receipts
        candidates = [guess] if 0 < guess <= last_fd else []
        limit = self._params.shift_scan_limit
        candidates += [fd for fd in range(last_fd, max(last_fd - limit, 0), -1) if fd != guess]
        for fd in candidates:
            try:
                found = await self._find(fd)
            except DocumentNotFound:
                continue
            if found.document_type == FnDocumentType.OPEN_SHIFT and found.shift == shift:
                return found
            if fd != guess and found.document_type in {
                FnDocumentType.CLOSE_SHIFT,
                FnDocumentType.OPEN_SHIFT,
            }:
                break  # walked past the start of this shift
        detail = f"no open-shift document for shift {shift} within {limit} FDs of {last_fd}"
        raise UnexpectedResponse(Command.FIND_DOCUMENT, detail)

    # --- printing states -------------------------------------------------------------------

    async def _ready_status(self, command: int) -> ReadShortStatusResponse:
        """0x10 until the printer is idle: 0xB0 after paper came back, PaperOut without paper."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._params.print_wait_s
        short = await self._leave_data_output()
        while True:
            submode = short.submode
            if submode == Submode.READY:
                return short
            if submode in _PAPER_OUT_SUBMODES:
                raise PaperOut(
                    DeviceErrorCode.NO_RECEIPT_PAPER, command, f"no paper (submode {submode})"
                )
            if submode == Submode.AWAITING_CONTINUE:
                self._log.info("paper is back: continue printing")
                await self._call(ContinuePrintRequest(password=self._op), ContinuePrintResponse)
            elif loop.time() >= deadline:
                raise PrinterBusy(
                    DeviceErrorCode.PRINTING_PREVIOUS,
                    command,
                    f"still printing after {self._params.print_wait_s:g} s (submode {submode})",
                )
            else:
                await asyncio.sleep(self._params.print_poll_interval_s)
            short = await self._short_status()

    async def _leave_data_output(self) -> ReadShortStatusResponse:
        """0x10; a register left in mode 1 (a document read cut short) is read to its end."""
        short = await self._short_status()
        if short.mode == Mode.DATA_OUTPUT:
            self._log.warning("register left in data output: reading the document to its end")
            await self._drain_document_output()
            short = await self._short_status()
        return short

    async def _printing(
        self, request: Request, expected: type[_R], *, is_sensitive: bool = False
    ) -> _R:
        """A command that prints: on 0x50 or 0x58 wait until printed, then send it again.

        A command refused with 0x50 or 0x58 was not executed, so sending it again is safe.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._params.print_wait_s
        while True:
            try:
                return await self._call(request, expected, is_sensitive=is_sensitive)
            except (PrinterBusy, PaperOut) as exc:
                retry = exc.code in {
                    DeviceErrorCode.PRINTING_PREVIOUS,
                    DeviceErrorCode.AWAITING_CONTINUE_PRINT,
                }
                if not retry or loop.time() >= deadline:
                    raise
                self._log.debug("register busy printing; waiting", code=exc.code)
                await self._ready_status(request.command)

    # --- one exchange ----------------------------------------------------------------------

    async def _exchange(self, payload: bytes, command: int, *, is_sensitive: bool) -> Frame:
        """One raw exchange (tests send payloads the codec does not build)."""
        return await self._session.exchange(payload, command, is_sensitive=is_sensitive)

    async def _call(
        self, request: Request, expected: type[_R], *, is_sensitive: bool = False
    ) -> _R:
        """Send one request and decode its answer; a non-zero error byte raises DeviceError."""
        command = request.command
        try:
            frame = await self._exchange(encode(request), command, is_sensitive=is_sensitive)
        except BaseException:  # the register may or may not have run it: vouch for nothing
            self._forget()
            raise
        try:
            response = decode_response(command, frame.payload)
        except ProtocolError as exc:
            self._forget()
            self._session.log_failure(exc)
            raise
        if isinstance(response, ErrorResponse):
            raise device_error(command, response)
        if not isinstance(response, expected):
            raise UnexpectedResponse(command, f"decoded {type(response).__name__}")
        self._track(response)
        return response


_OPEN_RECEIPT_DOCUMENTS: Final = frozenset({FnDocument.RECEIPT, FnDocument.CORRECTION_RECEIPT})

_MONEY_DOCUMENT_TYPES: Final = frozenset(
    {FnDocumentType.RECEIPT, FnDocumentType.BSO, FnDocumentType.CORRECTION}
)


def _shift_state(mode: Mode | int, *, is_fn_shift_open: bool) -> ShiftState:
    if mode == Mode.SHIFT_EXPIRED:
        return ShiftState.EXPIRED
    if mode in {Mode.SHIFT_OPEN, Mode.DOCUMENT_OPEN}:
        return ShiftState.OPEN
    if mode == Mode.SHIFT_CLOSED:
        return ShiftState.CLOSED
    return ShiftState.OPEN if is_fn_shift_open else ShiftState.CLOSED


def _mark_tag(mark: str) -> TlvItem:
    """Tag 1084: 1085 :data:`MARK_NAME` and 1086 the mark, CP866 (docs/fn-documents.md §2)."""
    try:
        value = mark.encode(_TLV_ENCODING)
    except UnicodeEncodeError as exc:
        msg = f"the mark must be CP866 text (the FN stores it so): {mark!r}"
        raise ValueError(msg) from exc
    if not 0 < len(value) <= MAX_MARK_BYTES:
        msg = f"the mark must be 1..{MAX_MARK_BYTES} bytes in CP866, got {len(value)}"
        raise ValueError(msg)
    name = tlv_string(Tag.USER_REQUISITE_NAME, MARK_NAME)
    return tlv_stlv(Tag.USER_REQUISITE, (name, TlvItem(tag=Tag.USER_REQUISITE_VALUE, value=value)))


def _cashier_tags(cashier: Cashier) -> list[TlvItem]:
    tags = [tlv_string(Tag.CASHIER_NAME, cashier.name)]
    if cashier.inn:
        tags.append(tlv_string(Tag.CASHIER_INN, cashier.inn))
    return tags


if TYPE_CHECKING:

    def _implements_fiscal_driver(driver: ShtrihDriver) -> FiscalDriver:
        """Type-checked proof that ShtrihDriver satisfies the FiscalDriver protocol."""
        return driver
