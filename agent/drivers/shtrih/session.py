"""One register's byte stream, pumped through the sans-IO link machine: one exchange at a time.

The transport's bytes go to :class:`~agent.drivers.shtrih.link.ShtrihHostLink` from a reader
task; :meth:`ShtrihSession.exchange` registers its future before it writes, then sleeps until
the future is resolved or the link's next deadline. Frames are logged at DEBUG (a sensitive
request's bytes masked) and the last few are attached to every link ERROR. Each answered
exchange's round trip (from the first byte sent to the answer frame) goes to ``on_round_trip``
when one is given, named as the protocol notes name commands (``0x10``, ``FF45``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

import structlog

from agent.drivers.errors import (
    AnswerTimeout,
    BadChecksum,
    DriverError,
    LinkDown,
    UnexpectedResponse,
)
from agent.drivers.shtrih.frame import Frame
from agent.drivers.shtrih.link import (
    AnswerReceived,
    ExchangeFailed,
    FailureKind,
    HeldAnswerDiscarded,
    Ignored,
    LinkOutput,
    ShtrihHostLink,
)
from agent.drivers.shtrih.params import DriverParams
from agent.transport import READ_CHUNK_BYTES, ByteStream
from agent.transport import LinkDown as TransportLinkDown

__all__ = ["ShtrihSession", "command_name"]


def command_name(command: int) -> str:
    """``0x10`` for a one-byte command, ``FF45`` for an FF-prefixed one."""
    return f"{command:04X}" if command > 0xFF else f"0x{command:02X}"


class ShtrihSession:
    """The transport, the link machine and the reader task of one register."""

    def __init__(
        self,
        *,
        transport: ByteStream,
        params: DriverParams,
        log: structlog.typing.FilteringBoundLogger,
        on_reopen: Callable[[], None],
        on_round_trip: Callable[[str, float], None] | None = None,
    ) -> None:
        self._transport = transport
        self._on_round_trip = on_round_trip
        self._params = params
        self._log = log
        self._on_reopen = on_reopen
        self._link = ShtrihHostLink(timeouts=params.link_timeouts())
        self._reader: asyncio.Task[None] | None = None
        self._pending: asyncio.Future[Frame] | None = None
        self._pending_command = 0
        self._is_sensitive = False
        self._wakeup = asyncio.Event()
        # (direction, bytes, redact): formatted only for a DEBUG line or a link ERROR
        self._frames: deque[tuple[str, bytes, bool]] = deque(maxlen=params.frame_log_size)

    async def aclose(self) -> None:
        """Stop the reader and close the transport."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._transport.close()

    async def exchange(self, payload: bytes, command: int, *, is_sensitive: bool) -> Frame:
        """Send one payload and return the answer frame; link failures raise DriverError.

        ``is_sensitive`` masks the request's bytes in the frame log (a customer contact).
        """
        await self.ensure_open()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Frame] = loop.create_future()
        self._pending = future
        self._pending_command = command
        self._is_sensitive = is_sensitive
        timeout_s = self._params.answer_timeout_for(command)
        started = loop.time()
        try:
            await self._apply(self._link.start(payload, started, answer_timeout_s=timeout_s))
            while not future.done():
                self._wakeup.clear()
                try:
                    async with asyncio.timeout_at(self._link.deadline):
                        await self._wakeup.wait()
                except TimeoutError:
                    await self._apply(self._link.poll(loop.time()))
            frame = future.result()
            if self._on_round_trip is not None:
                self._on_round_trip(command_name(command), loop.time() - started)
            return frame
        finally:
            self._pending = None
            self._is_sensitive = False
            if self._link.is_busy:
                self._link.abort()

    async def ensure_open(self) -> None:
        """Open the transport and start the reader unless they are running already."""
        if self._reader is not None and not self._reader.done():
            return
        await self._transport.close()
        try:
            await self._transport.open()
        except TransportLinkDown as exc:
            error = LinkDown(exc.url, exc.reason)
            self.log_failure(error)
            raise error from exc
        self._on_reopen()  # whatever happened while the link was down, the driver did not see it
        self._link.abort()
        self._reader = asyncio.create_task(
            self._read_loop(), name=f"shtrih[{self._transport.url}].reader"
        )

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await self._transport.read(READ_CHUNK_BYTES)
                self._note("<<", data)
                await self._apply(self._link.feed(data, loop.time()))
                self._wakeup.set()
        except TransportLinkDown as exc:
            self._fail_pending(LinkDown(exc.url, exc.reason), exc)
        except Exception as exc:  # noqa: BLE001 top of the reader task: log, fail the waiter
            self._log.exception("register reader crashed")
            self._fail_pending(LinkDown(self._transport.url, f"reader crashed: {exc}"), exc)

    def _fail_pending(self, error: DriverError, cause: BaseException) -> None:
        error.__cause__ = cause
        self.log_failure(error)
        future = self._pending
        if future is not None and not future.done():
            future.set_exception(error)
        self._wakeup.set()

    async def _apply(self, out: LinkOutput) -> None:
        """Write what the link machine asked for, then act on its events."""
        if out.write:
            self._note(">>", out.write)
            try:
                await self._transport.write(out.write)
            except TransportLinkDown as exc:
                self._fail_pending(LinkDown(exc.url, exc.reason), exc)
                return
        for event in out.events:
            if isinstance(event, AnswerReceived):
                future = self._pending
                if future is not None and not future.done():
                    future.set_result(event.frame)
                self._wakeup.set()
            elif isinstance(event, ExchangeFailed):
                future = self._pending
                error = self._link_error(event)
                self.log_failure(error)
                if future is not None and not future.done():
                    future.set_exception(error)
                self._wakeup.set()
            elif isinstance(event, HeldAnswerDiscarded):
                self._log.warning(
                    "dropped an answer the register held from an earlier request",
                    frame=event.frame.payload.hex(" "),
                )
            elif isinstance(event, Ignored):
                self._log.debug("link bytes ignored", raw=event.raw.hex(" "), reason=event.reason)

    def _link_error(self, event: ExchangeFailed) -> DriverError:
        command = self._pending_command
        if event.kind is FailureKind.BAD_CHECKSUM:
            return BadChecksum(command, event.attempts)
        if event.kind is FailureKind.UNEXPECTED:
            return UnexpectedResponse(command, event.detail)
        return AnswerTimeout(command, round(event.waited_s, 3))

    def _note(self, direction: str, data: bytes) -> None:
        """Log link traffic at DEBUG as hex and keep it for the next link ERROR.

        The hex text is built only when a line is written: at INFO every frame would
        otherwise be formatted for nothing.
        """
        frame = (direction, data, self._is_sensitive and direction == ">>" and len(data) > 1)
        self._frames.append(frame)
        if self._log.is_enabled_for(logging.DEBUG):
            self._log.debug(_frame_text(*frame))

    def log_failure(self, error: DriverError) -> None:
        """ERROR with the recent frames: what a person needs to see what the line did."""
        self._log.error(
            "register link failure",
            error=str(error),
            error_type=type(error).__name__,
            recent_frames=[_frame_text(*frame) for frame in self._frames],
        )


def _frame_text(direction: str, data: bytes, redact: bool) -> str:
    """``>> 02 05 ...`` as hex; a frame carrying a customer contact shows its head only."""
    if redact:
        head = data[:5].hex(" ")
        return f"{direction} {head} ... ({len(data)} bytes; customer contact redacted)"
    return f"{direction} {data.hex(' ')}"
