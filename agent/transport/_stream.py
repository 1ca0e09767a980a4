"""One byte stream to a register, over TCP or a serial port (pyserial URL).

``socket://host:port`` goes to asyncio TCP (``asyncio.open_connection``); anything else
(``/dev/ttyACM0``, ``/dev/pts/7``, ``rfc2217://...``) goes to pyserial-asyncio-fast. The
transport moves bytes only; it knows no frame format (docs/style.md §1, layer 1).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import serial
import serial_asyncio_fast

from agent.transport.errors import LinkDown

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_BAUDRATE",
    "READ_CHUNK_BYTES",
    "ByteStream",
    "Transport",
    "TransportParams",
]

DEFAULT_BAUDRATE = 115200
"""FN-era Shtrih-M registers default to 115200 8N1 (docs/shtrih-wire-notes.md §1.7)."""
CONNECT_TIMEOUT_S = 5.0
"""How long opening a port or a TCP connection may take."""
READ_CHUNK_BYTES = 4096
"""The most bytes one :meth:`Transport.read` returns."""
_SOCKET_SCHEME = "socket"


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportParams:
    """Where the register is and how to talk to its port."""

    url: str
    baudrate: int = DEFAULT_BAUDRATE
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_NONE
    stopbits: float = serial.STOPBITS_ONE
    connect_timeout_s: float = CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("the register URL must not be empty")
        if self.connect_timeout_s <= 0:
            raise ValueError("connect_timeout_s must be positive")


class ByteStream(Protocol):
    """What a driver needs from a link: the shape of :class:`Transport` and of test fakes."""

    @property
    def url(self) -> str:
        """The address, for messages."""
        ...

    async def open(self) -> None:
        """Open the link; raises :class:`LinkDown`."""
        ...

    async def write(self, data: bytes) -> None:
        """Write all of ``data``; raises :class:`LinkDown`."""
        ...

    async def read(self, max_bytes: int = READ_CHUNK_BYTES) -> bytes:
        """Wait for at least one byte; raises :class:`LinkDown` on EOF or failure."""
        ...

    async def close(self) -> None:
        """Close the link; never raises."""
        ...


class Transport:
    """A byte stream to the register over a pyserial URL."""

    def __init__(self, *, params: TransportParams) -> None:
        self._params = params
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def url(self) -> str:
        """The pyserial URL this transport opens."""
        return self._params.url

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`close` or a failure."""
        return self._writer is not None

    async def open(self) -> None:
        """Open the port or connect the socket; raises :class:`LinkDown`."""
        if self._writer is not None:
            return
        params = self._params
        try:
            async with asyncio.timeout(params.connect_timeout_s):
                self._reader, self._writer = await self._connect()
        except TimeoutError as exc:
            raise LinkDown(
                params.url, f"open timed out after {params.connect_timeout_s:g} s"
            ) from exc
        except (OSError, serial.SerialException, ValueError) as exc:
            raise LinkDown(params.url, f"open failed: {exc}") from exc

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        params = self._params
        parts = urlsplit(params.url)
        if parts.scheme == _SOCKET_SCHEME:
            if not parts.hostname or parts.port is None:
                raise ValueError(f"a socket URL needs a host and a port: {params.url}")
            return await asyncio.open_connection(parts.hostname, parts.port)
        reader, writer = await serial_asyncio_fast.open_serial_connection(
            url=params.url,
            baudrate=params.baudrate,
            bytesize=params.bytesize,
            parity=params.parity,
            stopbits=params.stopbits,
        )
        return reader, writer

    async def write(self, data: bytes) -> None:
        """Write ``data`` and wait until the OS took it; raises :class:`LinkDown`."""
        writer = self._require_writer()
        try:
            writer.write(data)
            await writer.drain()
        except (OSError, serial.SerialException) as exc:
            await self._fail()
            raise LinkDown(self.url, f"write failed: {exc}") from exc

    async def read(self, max_bytes: int = READ_CHUNK_BYTES) -> bytes:
        """Return the next bytes (at least one); raises :class:`LinkDown` on EOF or failure."""
        if self._reader is None:
            raise LinkDown(self.url, "not open")
        try:
            data = await self._reader.read(max_bytes)
        except (OSError, serial.SerialException) as exc:
            await self._fail()
            raise LinkDown(self.url, f"read failed: {exc}") from exc
        if not data:
            await self._fail()
            raise LinkDown(self.url, "closed by the other side")
        return data

    async def close(self) -> None:
        """Close the port or socket; safe to call twice, never raises."""
        await self._fail()

    def _require_writer(self) -> asyncio.StreamWriter:
        if self._writer is None:
            raise LinkDown(self.url, "not open")
        return self._writer

    async def _fail(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, serial.SerialException):
            # The link is already broken; closing it is all that was asked.
            return
