"""The Shtrih driver's core: its state, one request at a time, and the printing states.

:class:`DriverCore` is the base of every part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`
(the mixins in ``receipt_ops``, ``shift_ops``, ``document_ops``, ``cash_ops`` and ``status_ops``).
It holds what the driver can vouch for (the shift cursor, the clock anchor, whether a 0x10 is due),
sends one request and decodes its answer (``_call``), waits out the printer (``_printing``,
``_ready_status``), writes FF0C tags and reads the small status answers the operations share.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

import structlog

from agent.drivers.errors import (
    DeviceError,
    DocumentNotFound,
    PaperOut,
    PrinterBusy,
    ProtocolError,
    UnexpectedResponse,
)
from agent.drivers.interface import FiscalDocument
from agent.drivers.shtrih.commands import (
    MAX_TLV_BYTES,
    AddOperationResponse,
    BeginCorrectionResponse,
    CancelReceiptResponse,
    CloseReceiptResponse,
    ContinuePrintRequest,
    ContinuePrintResponse,
    DeviceErrorCode,
    ErrorResponse,
    FindDocumentRequest,
    FindDocumentResponse,
    FnErrorCode,
    Mode,
    ReadDocumentBlockRequest,
    ReadDocumentBlockResponse,
    ReadFnStatusRequest,
    ReadFnStatusResponse,
    ReadMoneyRegisterRequest,
    ReadMoneyRegisterResponse,
    ReadOperatingRegisterRequest,
    ReadOperatingRegisterResponse,
    ReadShortStatusRequest,
    ReadShortStatusResponse,
    ReadStatusRequest,
    ReadStatusResponse,
    Request,
    Response,
    Submode,
    TlvItem,
    WriteTlvRequest,
    WriteTlvResponse,
    decode_response,
    encode,
)
from agent.drivers.shtrih.device_errors import device_error
from agent.drivers.shtrih.documents import attach_zone
from agent.drivers.shtrih.frame import Frame
from agent.drivers.shtrih.params import DriverParams
from agent.drivers.shtrih.session import ShtrihSession
from agent.transport import ByteStream

PAPER_OUT_SUBMODES = frozenset({Submode.PAPER_OUT_PASSIVE, Submode.PAPER_OUT_ACTIVE})
_IDLE_MODES = frozenset({Mode.SHIFT_OPEN, Mode.SHIFT_EXPIRED, Mode.SHIFT_CLOSED})
_MAX_DRAIN_BLOCKS = 4096

_R = TypeVar("_R", bound=Response)


def _host_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftCursor:
    """Where the driver's count of the shift stands: counted forward from FF45's FD."""

    shift: int
    number: int  # the last receipt's number in the shift (0 right after the open)
    fd: int  # the last FD this count accounts for


class DriverCore:
    """The state of one ShtrihDriver and the one request every operation goes through."""

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
        self._cursor: ShiftCursor | None = None  # see _count_receipt
        self._clock_anchor: tuple[datetime, float] | None = None  # see read_ledger

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
            if submode in PAPER_OUT_SUBMODES:
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
