"""An in-memory link between the driver and a sans-IO device link, with fault knobs.

The host end implements ``agent.transport.ByteStream``; the device end is anything with
``feed(data, now) -> bytes``, ``poll(now) -> bytes`` and ``next_deadline`` (the simulator's
``firmware_sim.link.DeviceLink``). Knobs (docs/style.md §7.2): fragment the bytes the host reads,
drop or corrupt the next N bytes in either direction, delay answers, pause delivery, go dead
(power cut: bytes are swallowed, nothing comes back), unplug (reads fail).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from agent.transport import LinkDown


class DeviceSide(Protocol):
    """The device end of the handshake (``firmware_sim.link.DeviceLink``)."""

    @property
    def next_deadline(self) -> float | None: ...

    def feed(self, data: bytes, now: float) -> bytes: ...

    def poll(self, now: float) -> bytes: ...


@dataclass
class Knobs:
    """Faults to inject; counters count down as bytes pass."""

    fragment: int | None = None  # deliver device->host bytes in pieces of this size
    drop_to_host: int = 0  # drop the next N device->host bytes
    drop_to_device: int = 0  # drop the next N host->device bytes
    corrupt_to_host: int = 0  # flip the next N device->host bytes (xor 0xFF)
    corrupt_to_device: int = 0
    corrupt_frames: int = 0  # flip the LRC of the next N device->host writes that hold a frame
    corrupt_requests: int = 0  # flip the LRC of the next N host->device frames
    delay_s: float = 0.0  # deliver device->host bytes this much later
    is_paused: bool = False  # hold device->host bytes until resume()
    is_dead: bool = False  # power cut: swallow host bytes, answer nothing
    drop_filter: Callable[[bytes], bool] | None = None  # drop whole device->host writes


@dataclass
class FakeLink:
    """The host's ByteStream plus the device it talks to."""

    device: DeviceSide
    knobs: Knobs = field(default_factory=Knobs)
    url: str = "fake://register"
    to_host: bytearray = field(default_factory=bytearray)
    to_device_log: list[bytes] = field(default_factory=list)
    to_host_log: list[bytes] = field(default_factory=list)
    opens: int = 0
    _is_open: bool = False
    _is_unplugged: bool = False
    _held: bytearray = field(default_factory=bytearray)
    _readable: asyncio.Event = field(default_factory=asyncio.Event)
    _timers: set[asyncio.TimerHandle] = field(default_factory=set)

    # --- ByteStream ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._is_unplugged:
            raise LinkDown(self.url, "no such device")
        self._is_open = True
        self.opens += 1

    async def write(self, data: bytes) -> None:
        if not self._is_open:
            raise LinkDown(self.url, "not open")
        self.to_device_log.append(bytes(data))
        data = self._mangle(data, to_device=True)
        if self.knobs.corrupt_requests and len(data) > 1:
            self.knobs.corrupt_requests -= 1
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        if self.knobs.is_dead or not data:
            return
        loop = asyncio.get_running_loop()
        out = self.device.feed(data, loop.time())
        self._schedule_device_poll()
        self._emit(out)

    async def read(self, max_bytes: int = 4096) -> bytes:
        while True:
            if self._is_unplugged or not self._is_open:
                raise LinkDown(self.url, "unplugged" if self._is_unplugged else "closed")
            if self.to_host:
                size = min(max_bytes, len(self.to_host))
                if self.knobs.fragment:
                    size = min(size, self.knobs.fragment)
                chunk = bytes(self.to_host[:size])
                del self.to_host[:size]
                return chunk
            self._readable.clear()
            await self._readable.wait()

    async def close(self) -> None:
        self._is_open = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._readable.set()

    # --- knobs --------------------------------------------------------------------------

    def unplug(self) -> None:
        """The cable is pulled: reads and opens fail until :meth:`plug`."""
        self._is_unplugged = True
        self._readable.set()

    def plug(self) -> None:
        self._is_unplugged = False

    def resume(self) -> None:
        """Deliver what a pause held back."""
        self.knobs.is_paused = False
        held, self._held = bytes(self._held), bytearray()
        self._deliver(held)

    # --- internals ----------------------------------------------------------------------

    def _mangle(self, data: bytes, *, to_device: bool) -> bytes:
        knobs = self.knobs
        out = bytearray()
        for raw_byte in data:
            byte = raw_byte
            if to_device and knobs.drop_to_device:
                knobs.drop_to_device -= 1
                continue
            if not to_device and knobs.drop_to_host:
                knobs.drop_to_host -= 1
                continue
            if to_device and knobs.corrupt_to_device:
                knobs.corrupt_to_device -= 1
                byte ^= 0xFF
            elif not to_device and knobs.corrupt_to_host:
                knobs.corrupt_to_host -= 1
                byte ^= 0xFF
            out.append(byte)
        return bytes(out)

    def _emit(self, out: bytes) -> None:
        if not out:
            return
        if self.knobs.drop_filter is not None and self.knobs.drop_filter(out):
            return
        out = self._mangle(out, to_device=False)
        if self.knobs.corrupt_frames and len(out) > 1:
            self.knobs.corrupt_frames -= 1
            out = out[:-1] + bytes([out[-1] ^ 0xFF])
        if not out:
            return
        if self.knobs.delay_s > 0:
            loop = asyncio.get_running_loop()
            timer: asyncio.TimerHandle | None = None

            def fire() -> None:
                assert timer is not None
                self._timers.discard(timer)
                self._deliver(out)

            timer = loop.call_later(self.knobs.delay_s, fire)
            self._timers.add(timer)
            return
        self._deliver(out)

    def _deliver(self, data: bytes) -> None:
        if not data:
            return
        if self.knobs.is_paused:
            self._held += data
            return
        self.to_host_log.append(data)
        self.to_host += data
        self._readable.set()

    def _schedule_device_poll(self) -> None:
        deadline = self.device.next_deadline
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def fire() -> None:
            assert timer is not None
            self._timers.discard(timer)
            if self.knobs.is_dead:
                return
            self._emit(self.device.poll(loop.time()))
            self._schedule_device_poll()

        timer = loop.call_at(deadline + 0.001, fire)
        self._timers.add(timer)


def utc_now() -> datetime:
    """The host's wall clock, for the device's handler."""
    return datetime.now(UTC)
