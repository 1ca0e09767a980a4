"""The asyncio side of the simulator: pumps bytes between a pty or TCP and the device.

:class:`Simulator` glues the pure parts together: fault plan -> :class:`DeviceLink` ->
:class:`Device`, and the store. A command that changed durable state is committed to the
state file inside the handler, that is before its answer bytes leave the process. The
device, the link and the store are touched by one worker thread at a time, under one lock.

Transports:

- pty: ``os.openpty()``, the slave in raw mode; its path is what clients open. The
  simulator keeps the slave open too, so clients may come and go.
- TCP: one client at a time, like the hardware's TCP server. A second client **waits**
  (accepted, not read) until the first disconnects, at most ``CLIENT_WAIT_S``; then it
  is closed and the refusal logged. The held answer survives a reconnect, so ENQ on the
  new connection gets it (§1.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import termios
import tty
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import structlog

from firmware_sim.commands import ErrorCode, answer, split_command
from firmware_sim.device import Device
from firmware_sim.faults import FaultPlan
from firmware_sim.link import BYTE_TIMEOUT_S, DeviceLink
from firmware_sim.serving import serve_control, stop_on_signals
from firmware_sim.state import DeviceConfig, DeviceState
from firmware_sim.store import StateStore, StoreError

__all__ = ["ServeParams", "Simulator", "TcpPort", "load_state", "open_pty", "run"]

log = structlog.get_logger("firmware_sim")

_T = TypeVar("_T")

READ_CHUNK_BYTES = 4096
PTY_WRITE_STALL_S = 3.0
"""A pty client that reads nothing for this long loses the bytes written to it."""
RING_FRAMES = 32
DEFAULT_TCP_PORT = 7778
CLIENT_WAIT_S = 5.0
"""How long a second TCP client waits for the first to leave before it is closed."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


CONTACT_TAG = 1008
TLV_PREFIX = b"\xff\x0c"
TLV_START = len(TLV_PREFIX) + 4  # after the password


def _redact(payload: bytes) -> bytes:
    """The payload as it may be logged: a buyer's phone or e-mail (FF0C tag 1008) masked."""
    if not payload.startswith(TLV_PREFIX):
        return payload
    out = bytearray(payload)
    pos = TLV_START
    while pos + 4 <= len(out):
        tag = int.from_bytes(out[pos : pos + 2], "little")
        length = int.from_bytes(out[pos + 2 : pos + 4], "little")
        pos += 4
        if tag == CONTACT_TAG:
            end = min(pos + length, len(out))
            out[pos:end] = b"*" * (end - pos)
        pos += length
    return bytes(out)


class Simulator:
    """Device + link + store + faults behind one lock; transports call :meth:`receive`."""

    def __init__(
        self,
        *,
        device: Device,
        store: StateStore | None = None,
        faults: FaultPlan | None = None,
        byte_timeout_s: float = BYTE_TIMEOUT_S,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.device = device
        self.store = store
        self.faults = faults or FaultPlan()
        self._wall_clock = wall_clock
        self.link = DeviceLink(self._handle, byte_timeout_s=byte_timeout_s, wall_clock=wall_clock)
        self._lock = asyncio.Lock()
        self._frames: deque[str] = deque(maxlen=RING_FRAMES)
        self._logged_fd = device.state.last_fd
        self._cut_pending = False

    # ---- the command path (runs in a worker thread, under the lock) -------------------------

    def _handle(self, payload: bytes, wall: datetime) -> bytes:
        shown = _redact(payload).hex(" ")
        self._frames.append(f"<< {shown}")
        log.debug("frame", dir="<<", hex=shown)
        command = split_command(payload)[0]
        if self.faults.take_power_cut(command, after=False):
            self._cut_pending = True  # the power goes before the register runs it
            return answer(command, ErrorCode.INTERNAL_ERROR)  # never written: the line is dead
        injected = self.faults.take_refusal(command, after=False)
        if injected is not None:  # refused before the register runs it: nothing changes
            reply = answer(command, injected)
            log.warning("injected refusal", code=f"0x{injected:02X}", after=False)
        else:
            reply = self._run(command, payload, wall)
        self._frames.append(f">> {reply.hex(' ')}")
        log.debug("frame", dir=">>", hex=reply.hex(" "))
        return reply

    def _run(self, command: int, payload: bytes, wall: datetime) -> bytes:
        """Run the command on the device, persist what changed, apply after-faults."""
        revision = self.device.revision
        try:
            reply = self.device.handle(payload, wall)
        except Exception:
            log.exception("device failed on a command", frames=list(self._frames))
            reply = answer(command, ErrorCode.INTERNAL_ERROR)
        if self.device.revision != revision:
            self._persist()
        if self.faults.take_power_cut(command, after=True):
            self._cut_pending = True  # done and stored; the answer never leaves
        refusal = self.device.last_refusal
        if refusal is not None:
            log.info("refused", code=f"0x{refusal.code:02X}", reason=refusal.reason)
        injected = self.faults.take_refusal(command, after=True)
        if injected is not None:  # it ran and is stored; the host is told it was refused
            log.warning("injected refusal", code=f"0x{injected:02X}", after=True)
            reply = answer(command, injected)
        return reply

    def _persist(self) -> None:
        state = self.device.state
        if self.store is not None:
            self.store.save(state)
        for doc in state.documents:
            if doc.fd > self._logged_fd:
                log.info("fiscal document", fd=doc.fd, type=doc.type.value, shift=doc.shift)
        self._logged_fd = state.last_fd

    # ---- transports call these ------------------------------------------------------------

    @property
    def next_deadline(self) -> float | None:
        """Loop time at which :meth:`tick` must run (byte timeout of a partial frame)."""
        return self.link.next_deadline

    async def receive(self, data: bytes) -> bytes:
        """Bytes read from the line in, bytes to write out (faults applied both ways)."""
        data = self.faults.filter_in(data)
        if not data or not self.faults.is_powered:
            return b""
        now = asyncio.get_running_loop().time()
        async with self._lock:
            out = await _finish_even_if_cancelled(self.link.feed, data, now)
        if self._cut_pending:
            self._cut_pending = False
            await self.power_cut()
            return b""
        if out and self.faults.answer_delay_ms:
            await asyncio.sleep(self.faults.answer_delay_ms / 1000)
        if not self._is_powered():  # the power may have been cut during the delay
            return b""
        return self.faults.filter_out(out)

    def _is_powered(self) -> bool:
        return self.faults.is_powered

    async def tick(self) -> bytes:
        """Run the byte timeout; returns a NAK when a partial frame timed out."""
        async with self._lock:
            out = self.link.poll(asyncio.get_running_loop().time())
        if not self.faults.is_powered:
            return b""
        return self.faults.filter_out(out)

    def disconnect(self) -> None:
        """The client went away: drop a partial frame, keep a held answer."""
        self.link.disconnect()

    # ---- control operations ---------------------------------------------------------------

    async def _mutate(self, change: Callable[[], object]) -> None:
        async with self._lock:
            revision = self.device.revision
            change()
            if self.device.revision != revision:
                await _finish_even_if_cancelled(self._persist)

    async def power_cut(self) -> None:
        """Power off: the link goes dead and the open receipt is lost."""
        self.faults.is_powered = False

        def cut() -> None:
            self.device.power_cut()
            self.link.reset()

        await self._mutate(cut)
        log.warning("power cut")

    async def power_back(self) -> None:
        """Power on again; the state is what it was."""
        self.faults.is_powered = True
        log.warning("power back")

    async def set_paper(self, present: bool) -> None:
        """Load or take out the paper."""
        await self._mutate(lambda: self.device.set_paper(present))
        log.warning("paper", present=present)

    async def advance_clock(self, seconds: float) -> None:
        """Move the register's clock."""
        await self._mutate(lambda: self.device.advance_clock(seconds))
        log.warning("clock advanced", seconds=seconds)

    async def ofd_ack(self, through_fd: int | None) -> int:
        """The OFD acknowledged FDs up to ``through_fd`` (default: all)."""
        acked: list[int] = []
        await self._mutate(lambda: acked.append(self.device.ofd_ack(through_fd)))
        return acked[0]

    async def set_tax_mode(self, mode: int) -> None:
        """Write the tax mode (table 1 row 1 field 14); persisted like a 0x1E."""
        await self._mutate(lambda: self.device.set_tax_mode(mode))
        log.warning("tax mode", mode=mode)

    async def summary(self) -> dict[str, Any]:
        """The register, the faults and the link, for GET /state."""
        async with self._lock:
            state = self.device.summary(self._wall_clock())
        state["power"] = self.faults.is_powered
        state["faults"] = self.faults.as_dict()
        state["link"] = self.link.stats.as_dict()
        return state


async def _finish_even_if_cancelled(func: Callable[..., _T], *args: object) -> _T:
    """Run ``func`` in a worker thread and, if cancelled meanwhile, wait for it to end.

    A command being executed (and committed) when the server shuts down completes before
    the lock is given up and the store closed; its answer is simply never written.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


# ---- pumps ------------------------------------------------------------------------------------


async def _pump(
    sim: Simulator,
    read: Callable[[], Awaitable[bytes]],
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    """Read, feed, write until EOF; the byte timeout is served between reads."""
    loop = asyncio.get_running_loop()
    while True:
        deadline = sim.next_deadline
        timeout = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            async with asyncio.timeout(timeout):
                data = await read()
        except TimeoutError:
            data = None
        try:
            if data is None:
                out = await sim.tick()
            elif not data:
                return
            else:
                out = await sim.receive(data)
            if out:
                await write(out)
        except (ConnectionError, BrokenPipeError):
            return
        except Exception:
            log.exception("pump failed on input; carrying on")


@dataclass(slots=True)
class PtyPort:
    """A pseudo-terminal: the simulator holds the master, clients open :attr:`path`."""

    master: int
    slave: int
    path: str
    _queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    async def serve(self, sim: Simulator) -> None:
        """Pump until cancelled."""
        loop = asyncio.get_running_loop()
        loop.add_reader(self.master, self._on_readable)
        try:
            await _pump(sim, self._queue.get, self._write)
        finally:
            loop.remove_reader(self.master)

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master, READ_CHUNK_BYTES)
        except OSError:
            return
        if data:
            self._queue.put_nowait(data)

    async def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master, view)
            except BlockingIOError:
                if not await self._writable():
                    log.warning("pty client is not reading; bytes dropped", dropped=len(view))
                    return
                continue
            view = view[written:]

    async def _writable(self) -> bool:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def on_writable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_writer(self.master, on_writable)
        try:
            async with asyncio.timeout(PTY_WRITE_STALL_S):
                await ready
        except TimeoutError:
            return False
        finally:
            loop.remove_writer(self.master)
        return True

    def close(self) -> None:
        """Close both ends."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty() -> PtyPort:
    """A new pty with its slave in raw mode (no echo, no line discipline)."""
    master, slave = os.openpty()
    tty.setraw(slave, termios.TCSANOW)
    os.set_blocking(master, False)
    return PtyPort(master=master, slave=slave, path=os.ttyname(slave))


def _quick_ack(sock: socket.socket | None) -> None:
    """Acknowledge at once (Linux): a client's Nagle then never waits on our delayed ACK.

    The host's final ACK byte gets no answer, so without this the next ENQ waits ~40 ms.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if sock is not None and quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


class TcpPort:
    """One client at a time, like the hardware's TCP server.

    A second client waits, unserved, until the first disconnects (its bytes stay in the
    socket buffer); if the slot is not free within ``client_wait_s`` it is closed.
    """

    def __init__(self, sim: Simulator, *, client_wait_s: float = CLIENT_WAIT_S) -> None:
        self._sim = sim
        self._client_wait_s = client_wait_s
        self._server: asyncio.Server | None = None
        self._slot = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()
        self.address: tuple[str, int] = ("", 0)

    async def start(self, host: str, port: int) -> None:
        """Listen; :attr:`address` then holds the real port."""
        self._server = await asyncio.start_server(self._on_client, host, port)
        sockname = self._server.sockets[0].getsockname()
        self.address = (host, int(sockname[1]))

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        peer = str(writer.get_extra_info("peername"))
        try:
            try:
                async with asyncio.timeout(self._client_wait_s):
                    await self._slot.acquire()
            except TimeoutError:
                log.warning("second TCP client refused: the first is still connected", peer=peer)
                return
            try:
                await self._serve(reader, writer, peer)
            finally:
                self._slot.release()
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("TCP client connected", peer=peer)

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        async def read() -> bytes:
            data = await reader.read(READ_CHUNK_BYTES)
            _quick_ack(sock)
            return data

        try:
            await _pump(self._sim, read, write)
        finally:
            self._sim.disconnect()
            log.info("TCP client gone", peer=peer)

    async def close(self) -> None:
        """Stop listening and drop the clients."""
        if self._server is not None:
            self._server.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        for task in handlers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()


# ---- the serve command ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeParams:
    """Everything ``firmware-sim serve`` was asked for."""

    config: DeviceConfig
    pty: bool = False
    tcp: tuple[str, int] | None = None
    atol_web: tuple[str, int] | None = None  # the ATOL web server front end instead of the wire
    control: tuple[str, int] | None = None
    state_path: Path | None = None
    shift_age_s: float | None = None
    paper_out: bool = False
    answer_delay_ms: int = 0
    byte_timeout_s: float = BYTE_TIMEOUT_S
    explicit_identity: bool = False  # --fn-serial/--serial given on the command line
    tax_mode: int | None = None  # --tax-mode: for a new state only


def load_state(params: ServeParams) -> tuple[DeviceConfig, StateStore | None, DeviceState | None]:
    """The configuration bound to the state file, the store and the saved state (if any)."""
    config = params.config
    if params.state_path is None:
        return config, None, None
    store = StateStore(params.state_path)
    identity = store.identity()
    if identity is None:
        store.save_identity(config)
    elif params.explicit_identity and (
        identity.fn_serial != config.fn_serial or identity.serial != config.serial
    ):
        store.close()
        raise StoreError(
            f"{params.state_path} belongs to FN {identity.fn_serial} / register "
            f"{identity.serial}; start without --fn-serial/--serial or use another file"
        )
    else:
        config = replace(
            config,
            fn_serial=identity.fn_serial,
            serial=identity.serial,
            fn_valid_until=identity.fn_valid_until,
        )
    return config, store, store.load()


def build_simulator(params: ServeParams) -> Simulator:
    """The device (restored from the state file, if any) wired to its link and store."""
    config, store, state = load_state(params)
    device = Device(config=config, state=state)
    if params.tax_mode is not None:
        if state is None:
            device.set_tax_mode(params.tax_mode)
        elif params.tax_mode != device.tax_mode:
            log.warning(
                "--tax-mode ignored: the state file keeps its own", tax_mode=device.tax_mode
            )
    if params.shift_age_s is not None:
        if device.state.is_shift_open:
            log.warning("--shift-age ignored: the state file has a shift open")
        else:
            device.start_aged_shift(_utc_now(), params.shift_age_s)
    if store is not None:
        store.save(device.state)
    device.set_paper(not params.paper_out)
    return Simulator(
        device=device,
        store=store,
        faults=FaultPlan(answer_delay_ms=params.answer_delay_ms),
        byte_timeout_s=params.byte_timeout_s,
    )


async def run(params: ServeParams, *, out: IO[str] = sys.stdout) -> int:
    """Serve until SIGTERM/SIGINT; print the port line (and the control line) first."""
    sim = build_simulator(params)
    async with contextlib.AsyncExitStack() as stack:
        stop = stop_on_signals(stack)
        if sim.store is not None:
            stack.callback(sim.store.close)
        async with asyncio.TaskGroup() as group:
            if params.pty:
                pty_port = open_pty()
                stack.callback(pty_port.close)
                out.write(f"{pty_port.path}\n")
                pump = group.create_task(pty_port.serve(sim), name="firmware_sim.pty")
                where = pty_port.path
            else:
                assert params.tcp is not None
                tcp_port = TcpPort(sim)
                stack.push_async_callback(tcp_port.close)
                await tcp_port.start(*params.tcp)
                where = f"socket://{tcp_port.address[0]}:{tcp_port.address[1]}"
                out.write(f"{where}\n")
                pump = None
            out.flush()
            await serve_control(stack, sim, params.control, out)
            log.info(
                "serving", fn=sim.device.config.fn_serial, at=where, state=str(params.state_path)
            )
            await stop.wait()
            log.info("stopping")
            if pump is not None:
                pump.cancel()
    return 0
