"""The byte transport over real TCP sockets and a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from agent.transport import LinkDown, Transport, TransportParams


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A local TCP server that echoes bytes back; yields its socket:// URL and its clients."""
    clients: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append(writer)
        while data := await reader.read(100):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"socket://127.0.0.1:{port}", clients
    for writer in clients:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_transport_tcp_roundtrip(echo_server: tuple[str, list[asyncio.StreamWriter]]) -> None:
    """socket:// opens asyncio TCP; written bytes come back through read()."""
    url, _ = echo_server
    transport = Transport(params=TransportParams(url=url))
    await transport.open()
    assert transport.is_open
    await transport.write(b"\x05\x02\x05\x10\x1e\x00\x00\x00\x0b")
    received = b""
    while len(received) < 9:
        received += await transport.read()
    assert received == b"\x05\x02\x05\x10\x1e\x00\x00\x00\x0b"
    await transport.close()
    await transport.close()
    assert not transport.is_open


async def test_transport_tcp_peer_close_is_link_down(
    echo_server: tuple[str, list[asyncio.StreamWriter]],
) -> None:
    """The register closing the socket turns the next read into LinkDown."""
    url, clients = echo_server
    transport = Transport(params=TransportParams(url=url))
    await transport.open()
    async with asyncio.timeout(2):
        while not clients:
            await asyncio.sleep(0.001)
    clients[0].close()
    with pytest.raises(LinkDown, match="closed by the other side"):
        await transport.read()
    assert not transport.is_open
    with pytest.raises(LinkDown, match="not open"):
        await transport.write(b"\x05")


async def test_transport_tcp_refused_is_link_down() -> None:
    """Nobody listening: open() raises LinkDown naming the URL."""
    server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    transport = Transport(params=TransportParams(url=f"socket://127.0.0.1:{port}"))
    with pytest.raises(LinkDown) as caught:
        await transport.open()
    assert caught.value.url.endswith(str(port))


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("socket://127.0.0.1", id="socket-without-port"),
        pytest.param("/dev/no-such-register", id="missing-device"),
    ],
)
async def test_transport_bad_url_is_link_down(url: str) -> None:
    """A URL that cannot be opened is LinkDown, not a raw OSError or ValueError."""
    with pytest.raises(LinkDown):
        await Transport(params=TransportParams(url=url)).open()


async def test_transport_read_before_open_is_link_down() -> None:
    """Reading a transport that was never opened is LinkDown."""
    with pytest.raises(LinkDown, match="not open"):
        await Transport(params=TransportParams(url="socket://127.0.0.1:1")).read()


async def test_transport_pty_roundtrip() -> None:
    """A device path goes through pyserial-asyncio; bytes cross a real pty both ways raw."""
    master, slave = os.openpty()
    try:
        transport = Transport(params=TransportParams(url=os.ttyname(slave)))
        await transport.open()
        frame = bytes([0x02, 0x05, 0x10, 0x0D, 0x0A, 0x03, 0x11])  # CR, LF, ^C, XON pass raw
        await transport.write(frame)
        echoed = b""
        while len(echoed) < len(frame):
            echoed += await asyncio.to_thread(os.read, master, 64)
        assert echoed == frame
        os.write(master, b"\x06\x15")
        received = b""
        while len(received) < 2:
            received += await transport.read()
        assert received == b"\x06\x15"
        await transport.close()
    finally:
        os.close(master)
        os.close(slave)


def test_transport_params_validate() -> None:
    """An empty URL or a non-positive open timeout is refused at construction."""
    with pytest.raises(ValueError, match="URL"):
        TransportParams(url="")
    with pytest.raises(ValueError, match="connect_timeout_s"):
        TransportParams(url="/dev/ttyACM0", connect_timeout_s=0)
