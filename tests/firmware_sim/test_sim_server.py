"""The simulator served in-process over real TCP, with the control API over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from simwire import SYSADMIN, config, ff45_body, ff46_body, pw, sale_body, tlv, u

from agent.drivers.shtrih.frame import Frame, ShtrihFrameDecoder, encode_frame
from firmware_sim import server as server_module
from firmware_sim.control import start_control
from firmware_sim.device import Device
from firmware_sim.server import Simulator, TcpPort, _redact, open_pty
from firmware_sim.store import StateStore

ENQ, ACK, NAK, STX = b"\x05", b"\x06", b"\x15", 0x02
READ_TIMEOUT_S = 2.0


class Host:
    """A minimal host side of the link over asyncio streams (test code, not the agent's)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Host:
        """Open a TCP connection to the simulator."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def read(self, count: int) -> bytes:
        """Exactly ``count`` bytes, or TimeoutError."""
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await self.reader.readexactly(count)

    async def read_frame(self) -> bytes:
        """One answer frame, raw (STX LEN payload LRC)."""
        head = await self.read(2)
        assert head[0] == STX, f"expected STX, got {head.hex()}"
        return head + await self.read(head[1] + 1)

    async def send(self, data: bytes) -> None:
        """Write bytes."""
        self.writer.write(data)
        await self.writer.drain()

    async def exchange(self, payload: bytes) -> bytes:
        """ENQ/NAK, frame/ACK, answer/ACK: the answer payload."""
        await self.send(ENQ)
        assert await self.read(1) == NAK
        await self.send(encode_frame(payload))
        assert await self.read(1) == ACK
        frame = await self.read_frame()
        await self.send(ACK)
        return frame[2:-1]

    async def expect_silence(self, seconds: float = 0.2) -> None:
        """Nothing arrives within ``seconds``."""
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.reader.read(1)

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@dataclass
class Served:
    """A running simulator: its parts and where to reach them."""

    sim: Simulator
    port: int
    control: str
    state_path: Path
    http: aiohttp.ClientSession

    async def post(self, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        """POST to the control API; returns the JSON (asserts 200)."""
        async with self.http.post(self.control + path, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return dict(await resp.json())

    async def state(self) -> dict[str, object]:
        """GET /state."""
        async with self.http.get(self.control + "/state") as resp:
            assert resp.status == 200
            return dict(await resp.json())


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """A simulator with a state file on 127.0.0.1, a random port, and its control API."""
    store = StateStore(tmp_path / "fn.db")
    sim = Simulator(device=Device(config=config()), store=store)
    tcp = TcpPort(sim)
    await tcp.start("127.0.0.1", 0)
    runner, (host, port) = await start_control(sim, "127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        try:
            yield Served(sim, tcp.address[1], f"http://{host}:{port}", tmp_path / "fn.db", http)
        finally:
            await runner.cleanup()
            await tcp.close()
            store.close()


@pytest.fixture
async def host(served: Served) -> AsyncIterator[Host]:
    """A connected host."""
    client = await Host.connect(served.port)
    yield client
    await client.close()


async def test_server_enq_idle_nak_and_status_round_trip(host: Host) -> None:
    """Over TCP: ENQ gets NAK, 0x10 gets ACK and the answer, mode 4 on a fresh register."""
    answer = await host.exchange(b"\x10" + pw(SYSADMIN))
    assert answer[:3] == b"\x10\x00\x1e"
    assert answer[5] == 4


async def test_server_receipt_is_committed_before_answer(served: Served, host: Host) -> None:
    """When the close answer arrives, its FD is already in the state file."""
    await host.exchange(b"\xe0" + pw())
    await host.exchange(b"\x80" + sale_body(price=10000))
    answer = await host.exchange(b"\x85" + pw() + u(15000, 5) + bytes(26) + bytes(40))
    assert answer[:3] == b"\x85\x00\x01"
    assert int.from_bytes(answer[3:8], "little") == 5000
    reader = StateStore(served.state_path, read_only=True)
    try:
        docs = list(reader.documents())
        state = reader.load()
    finally:
        reader.close()
    assert [doc.type.value for doc in docs] == ["registration", "open_shift", "receipt"]
    assert state is not None
    assert state.money_register(241) == 10000


async def test_server_bad_input_gets_protocol_answers(served: Served, host: Host) -> None:
    """Garbage is ignored, a bad LRC is NAKed, an unknown command gets 0x37; the server lives."""
    await host.send(b"\xaa\xbb\xcc")
    await host.expect_silence(0.1)
    frame = bytearray(encode_frame(b"\x10" + pw()))
    frame[-1] ^= 0x5A
    await host.send(bytes(frame))
    assert await host.read(1) == NAK
    assert await host.exchange(b"\x99" + pw()) == b"\x99\x37"
    assert await host.exchange(b"\xff\x7e" + pw(SYSADMIN)) == b"\xff\x7e\x01"
    assert (await host.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"
    assert served.sim.link.stats.bad_frames == 1


async def test_server_partial_frame_times_out_with_nak(host: Host) -> None:
    """Half a frame then silence: NAK after the byte timeout; nothing is executed."""
    await host.send(encode_frame(b"\xe0" + pw())[:4])
    assert await host.read(1) == NAK
    answer = await host.exchange(b"\x10" + pw())
    assert answer[5] == 4  # the shift was not opened


async def test_server_second_client_waits_for_the_first(served: Served, host: Host) -> None:
    """A second client is not served while the first is connected, then is served in turn."""
    second = await Host.connect(served.port)
    try:
        await second.send(ENQ)
        await second.expect_silence(0.2)
        assert (await host.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"
        await host.close()
        assert await second.read(1) == NAK  # its ENQ, read once the slot is free
        assert (await second.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"
    finally:
        await second.close()


async def test_server_second_client_refused_after_wait() -> None:
    """If the first client stays, the second is closed after client_wait_s."""
    sim = Simulator(device=Device(config=config()))
    tcp = TcpPort(sim, client_wait_s=0.1)
    await tcp.start("127.0.0.1", 0)
    first = await Host.connect(tcp.address[1])
    second = await Host.connect(tcp.address[1])
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            assert await second.reader.read(1) == b""
        assert (await first.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"
    finally:
        await second.close()
        await first.close()
        await tcp.close()


async def test_server_held_answer_survives_reconnect(served: Served, host: Host) -> None:
    """Answer not ACKed, client gone: the next client's ENQ gets ACK and that answer."""
    await host.send(ENQ)
    assert await host.read(1) == NAK
    await host.send(encode_frame(b"\xe0" + pw()))
    assert await host.read(1) == ACK
    first = await host.read_frame()
    await host.close()
    again = await Host.connect(served.port)
    try:
        await again.send(ENQ)
        assert await again.read(1) == ACK
        assert await again.read_frame() == first
    finally:
        await again.close()


async def test_control_drop_answer_then_enq_recovers(served: Served, host: Host) -> None:
    """Dropped output bytes: the host gets nothing; ENQ brings the held answer back."""
    await served.post("/faults/drop", {"count": 64})
    await host.send(encode_frame(b"\xe0" + pw()))
    await host.expect_silence()
    await served.post("/faults/clear")
    await host.send(ENQ)
    assert await host.read(1) == ACK
    frame = await host.read_frame()
    assert frame[2:5] == b"\xe0\x00\x01"
    await host.send(ACK)
    assert (await served.state())["last_fd"] == 2


async def test_control_corrupt_answer_then_enq_recovers(served: Served, host: Host) -> None:
    """Corrupted output reaches the host flipped; ENQ then gets the held answer intact."""
    await host.send(ENQ)
    assert await host.read(1) == NAK
    await served.post("/faults/corrupt", {"count": 20})
    await host.send(encode_frame(b"\x10" + pw()))
    garbled = await host.read(20)  # ACK + the 19-byte 0x10 answer frame, every bit flipped
    restored = bytes(b ^ 0xFF for b in garbled)
    assert restored[:1] == ACK
    events = ShtrihFrameDecoder().feed(restored[1:])
    assert isinstance(events[0], Frame)
    assert events[0].payload[:2] == b"\x10\x00"
    await host.send(NAK + ENQ)
    assert await host.read(1) == ACK
    assert await host.read_frame() == restored[1:]


async def test_control_delay_slows_answers(served: Served, host: Host) -> None:
    """With a 300 ms answer delay the ACK arrives no sooner than that."""
    await served.post("/faults/delay", {"ms": 300})
    loop = asyncio.get_running_loop()
    started = loop.time()
    await host.send(ENQ)
    assert await host.read(1) == NAK
    assert loop.time() - started >= 0.29


async def test_control_power_cut_link_dead_receipt_lost(served: Served, host: Host) -> None:
    """Power cut: bytes are ignored and nothing is written; back on, the receipt is gone."""
    await host.exchange(b"\xe0" + pw())
    await host.exchange(b"\x80" + sale_body())
    state = await served.post("/power/cut")
    assert state["power"] is False
    assert state["receipt_open"] is False
    await host.send(ENQ)
    await host.expect_silence()
    await served.post("/power/back")
    answer = await host.exchange(b"\x10" + pw())
    assert answer[5] == 2  # shift open, no receipt
    assert (await served.state())["last_fd"] == 2


async def test_control_paper_out_and_back(served: Served, host: Host) -> None:
    """Paper out shows in 0x10 (bits 1/7 clear, submode 1); documents get 0x6B."""
    await host.exchange(b"\xe0" + pw())
    await served.post("/paper/out")
    answer = await host.exchange(b"\x10" + pw())
    assert int.from_bytes(answer[3:5], "little") & 0x82 == 0
    assert answer[6] == 1
    assert await host.exchange(b"\x80" + sale_body()) == b"\x80\x6b"
    state = await served.post("/paper/back")
    assert state["paper"] is True
    assert (await host.exchange(b"\x80" + sale_body()))[:2] == b"\x80\x00"


async def test_control_clock_advance_locks_shift(served: Served, host: Host) -> None:
    """Advancing the register clock past 24 h shows mode 3 and refuses sales with 0x4E."""
    await host.exchange(b"\xe0" + pw())
    state = await served.post("/clock/advance", {"seconds": 86401})
    assert state["mode"] == 3
    assert state["shift"]["expired"] is True  # type: ignore[index]
    assert await host.exchange(b"\x80" + sale_body()) == b"\x80\x4e"
    reader = StateStore(served.state_path, read_only=True)
    try:
        saved = reader.load()
    finally:
        reader.close()
    assert saved is not None
    assert saved.clock_offset_s == 86401


async def test_control_ofd_ack_clears_backlog(served: Served, host: Host) -> None:
    """POST /ofd/ack marks FDs sent: FF3F then counts none."""
    await host.exchange(b"\xe0" + pw())
    assert await host.exchange(b"\xff\x3f" + pw(SYSADMIN)) == b"\xff\x3f\x00\x01\x00"
    state = await served.post("/ofd/ack", {})
    assert state["unsent_docs"] == 0
    assert await host.exchange(b"\xff\x3f" + pw(SYSADMIN)) == b"\xff\x3f\x00\x00\x00"


def _stored_fds(path: Path) -> list[int]:
    reader = StateStore(path, read_only=True)
    try:
        return [doc.fd for doc in reader.documents()]
    finally:
        reader.close()


async def _receipt_with_a_line(host: Host) -> None:
    await host.exchange(b"\xe0" + pw())
    assert (await host.exchange(b"\xff\x46" + ff46_body()))[:3] == b"\xff\x46\x00"


async def test_control_refuse_before_leaves_the_register_unchanged(
    served: Served, host: Host
) -> None:
    """Refused before it runs: FF45 answers 0x45, the receipt stays open, no FD is stored."""
    await _receipt_with_a_line(host)
    state = await served.post(
        "/faults/refuse", {"on_command": "FF45", "code": 69, "count": 1, "after": False}
    )
    assert state["faults"]["refuse"] == [  # type: ignore[index]
        {"on_command": "0xFF45", "code": 69, "count": 1, "after": False}
    ]
    assert await host.exchange(b"\xff\x45" + ff45_body({1: 10000})) == b"\xff\x45\x45"
    state = await served.state()
    assert (state["receipt_open"], state["last_fd"]) == (True, 2)
    assert _stored_fds(served.state_path) == [1, 2]
    answer = await host.exchange(b"\xff\x45" + ff45_body({1: 10000}))  # count 1: used up
    assert answer[:3] == b"\xff\x45\x00"
    assert _stored_fds(served.state_path) == [1, 2, 3]


async def test_control_refuse_after_stores_the_document_but_answers_the_error(
    served: Served, host: Host
) -> None:
    """Refused after it ran: FF45 answers 0x45, yet the receipt is closed and on disk."""
    await _receipt_with_a_line(host)
    await served.post("/faults/refuse", {"on_command": "ff45", "code": 69, "after": True})
    assert await host.exchange(b"\xff\x45" + ff45_body({1: 10000})) == b"\xff\x45\x45"
    state = await served.state()
    assert (state["receipt_open"], state["last_fd"]) == (False, 3)
    assert _stored_fds(served.state_path) == [1, 2, 3]
    assert state["faults"]["refuse"] == []  # type: ignore[index]


async def test_control_refuse_counts_and_clear_disarms(served: Served, host: Host) -> None:
    """count N refuses the next N such commands; /faults/clear forgets the rest."""
    await served.post("/faults/refuse", {"on_command": "10", "code": 0x50, "count": 3})
    assert await host.exchange(b"\x10" + pw()) == b"\x10\x50"
    assert await host.exchange(b"\x10" + pw()) == b"\x10\x50"
    state = await served.post("/faults/clear")
    assert state["faults"]["refuse"] == []  # type: ignore[index]
    assert (await host.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"


async def test_control_power_disarm_keeps_refusals(served: Served, host: Host) -> None:
    """/power/disarm forgets an armed cut only: the refusal armed beside it still fires."""
    await served.post("/power/cut", {"on_command": "10", "after": False})
    await served.post("/faults/refuse", {"on_command": "10", "code": 0x50, "count": 1})
    state = await served.post("/power/disarm")
    assert state["faults"]["power_cut_on"] is None  # type: ignore[index]
    assert state["power"] is True
    assert await host.exchange(b"\x10" + pw()) == b"\x10\x50"
    assert (await host.exchange(b"\x10" + pw()))[:2] == b"\x10\x00"


async def test_control_state_fields(served: Served) -> None:
    """GET /state reports mode, shift, last FD, paper, power, faults and link counters."""
    state = await served.state()
    for key in ("mode", "submode", "shift", "last_fd", "paper", "power", "faults", "link", "clock"):
        assert key in state


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/faults/drop", {}, "missing_field"),
        ("/faults/drop", {"count": -1}, "bad_field"),
        ("/faults/corrupt", {"count": 1, "direction": "up"}, "bad_field"),
        ("/clock/advance", {"seconds": "soon"}, "bad_field"),
        ("/ofd/ack", {"through_fd": "x"}, "bad_field"),
        ("/faults/refuse", {"code": 69}, "missing_field"),
        ("/faults/refuse", {"on_command": "FF45"}, "missing_field"),
        ("/faults/refuse", {"on_command": "zz", "code": 69}, "bad_field"),
        ("/faults/refuse", {"on_command": "1FF45", "code": 69}, "bad_field"),
        ("/faults/refuse", {"on_command": "FF45", "code": 0}, "bad_field"),
        ("/faults/refuse", {"on_command": "FF45", "code": 256}, "bad_field"),
        ("/faults/refuse", {"on_command": "FF45", "code": "69"}, "bad_field"),
        ("/faults/refuse", {"on_command": "FF45", "code": 69, "count": 0}, "bad_field"),
        ("/faults/refuse", {"on_command": "FF45", "code": 69, "after": "yes"}, "bad_field"),
        ("/tax-mode", {}, "missing_field"),
        ("/tax-mode", {"mode": 4}, "bad_field"),
        ("/tax-mode", {"mode": -1}, "bad_field"),
        ("/tax-mode", {"mode": "1"}, "bad_field"),
        ("/tax-mode", {"mode": True}, "bad_field"),
    ],
)
async def test_control_bad_requests_are_400(
    served: Served, path: str, body: dict[str, object], code: str
) -> None:
    """Bad control input gets 400 with an error code, and the simulator carries on."""
    async with served.http.post(served.control + path, json=body) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == code
    async with served.http.post(served.control + "/faults/drop", data=b"{not json") as resp:
        assert resp.status == 400
    assert (await served.state())["power"] is True


async def test_control_tax_mode_is_written_and_persisted(served: Served, host: Host) -> None:
    """POST /tax-mode sets table 1 field 14 (0x1F reads it), kept in the state file."""
    assert (await served.state())["tax_mode"] == 0
    assert (await served.post("/tax-mode", {"mode": 1}))["tax_mode"] == 1
    assert await host.exchange(b"\x1f" + pw(SYSADMIN) + bytes.fromhex("01 01 00 0e")) == (
        bytes.fromhex("1f 00 01")
    )
    reader = StateStore(served.state_path, read_only=True)
    loaded = reader.load()
    reader.close()
    assert loaded is not None
    assert loaded.tables == (((1, 1, 14), 1),)


class _SlowStore:
    """A store whose save blocks until released: a commit in flight at shutdown."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.saved = 0

    def save(self, _state: object) -> None:
        self.entered.set()
        assert self.release.wait(5)
        self.saved += 1


async def test_server_cancel_waits_for_command_in_flight() -> None:
    """Shutdown while a command is committing: the commit ends before the cancel returns."""
    store = _SlowStore()
    sim = Simulator(device=Device(config=config()), store=store)  # type: ignore[arg-type]
    task = asyncio.create_task(sim.receive(encode_frame(b"\xe0" + pw())), name="receive")
    assert await asyncio.to_thread(store.entered.wait, 5)
    task.cancel()
    for _ in range(10):  # a plain to_thread await would be cancelled within a loop turn
        await asyncio.sleep(0)
    assert not task.done()  # still waiting for the worker thread
    store.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.saved == 1
    assert sim.device.state.is_shift_open


async def test_pty_client_not_reading_does_not_block_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pty client that never reads: output is dropped after a stall, the server lives on."""
    monkeypatch.setattr(server_module, "PTY_WRITE_STALL_S", 0.1)
    sim = Simulator(device=Device(config=config()))
    port = open_pty()
    client = os.open(port.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    pump = asyncio.create_task(port.serve(sim), name="pty-pump")
    try:
        for _ in range(100):  # 200k ENQs -> 200k NAKs, far more than the tty buffer holds
            with contextlib.suppress(BlockingIOError):
                os.write(client, ENQ * 2000)
            await asyncio.sleep(0.005)
        state = await sim.summary()  # the loop still serves other work
        assert state["link"]["enq"] > 0  # type: ignore[index]
        with contextlib.suppress(BlockingIOError):
            while os.read(client, 65536):
                pass
        os.write(client, ENQ)
        async with asyncio.timeout(READ_TIMEOUT_S):
            while True:
                with contextlib.suppress(BlockingIOError):
                    if os.read(client, 1) == NAK:
                        break
                await asyncio.sleep(0.01)
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        os.close(client)
        port.close()


def test_frame_log_masks_buyer_contact() -> None:
    """Frames are logged with the FF0C tag 1008 value masked; other tags stay readable."""
    payload = b"\xff\x0c" + pw(SYSADMIN) + tlv(1021, b"Ivanova") + tlv(1008, b"+79990001122")
    shown = _redact(payload)
    assert b"+7999" not in shown
    assert b"Ivanova" in shown
    assert len(shown) == len(payload)
    assert _redact(b"\x10" + pw()) == b"\x10" + pw()
    truncated = b"\xff\x0c" + pw(SYSADMIN) + b"\xf0\x03\xff\xff+7"  # LEN beyond the data
    assert _redact(truncated).endswith(b"\xff\xff**")
