"""The real ``firmware-sim`` process: startup lines, signals, SIGKILL durability, tape."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from simwire import (
    SYSADMIN,
    LineReader,
    PtyHost,
    SocketHost,
    close_body,
    ff45_body,
    ff46_body,
    pw,
    sale_body,
    tlv,
    u,
)

pytestmark = pytest.mark.sim

SCRIPT = Path(sys.executable).with_name("firmware-sim")
START_TIMEOUT_S = 10.0


class SimProcess:
    """One simulator process and what it printed."""

    def __init__(self, *args: str) -> None:
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "firmware_sim"]
        self.proc = subprocess.Popen(
            [*command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self._lines = LineReader(self.proc.stdout.fileno())

    def line(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """The next stdout line, or fail after ``timeout_s``."""
        return self._lines.line(timeout_s)

    def tcp_port(self) -> int:
        """Read the socket:// line and return the port."""
        url = self.line()
        assert url.startswith("socket://127.0.0.1:"), url
        return int(url.rsplit(":", 1)[1])

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal and reap; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        return self.proc.wait(timeout=START_TIMEOUT_S)


@pytest.fixture
def spawn() -> Iterator[type[SimProcess]]:
    """Start simulator processes; every one is killed at the end of the test."""
    started: list[SimProcess] = []

    class Tracked(SimProcess):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for sim in started:
        if sim.proc.poll() is None:
            sim.proc.kill()
        sim.proc.wait(timeout=START_TIMEOUT_S)
        for stream in (sim.proc.stdout, sim.proc.stderr):
            if stream is not None:
                stream.close()


def _tape(state: Path, *extra: str) -> list[dict[str, object]]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "firmware_sim"]
    out = subprocess.run(
        [*command, "tape", "--state", str(state), *extra],
        capture_output=True,
        text=True,
        check=True,
        timeout=START_TIMEOUT_S,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.timeout(30)
def test_process_pty_prints_slave_path_then_control(spawn: type[SimProcess]) -> None:
    """serve --pty: line 1 is /dev/pts/N (a real tty), line 2 the control URL."""
    sim = spawn("serve", "--pty", "--control", "127.0.0.1:0")
    path = sim.line()
    assert path.startswith("/dev/pts/")
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        assert os.isatty(fd)
    finally:
        os.close(fd)
    control = sim.line()
    assert control.startswith("control http://127.0.0.1:")
    with urllib.request.urlopen(control.split(" ", 1)[1] + "/state", timeout=5) as resp:  # noqa: S310
        assert json.load(resp)["mode"] == 4
    assert sim.stop() == 0


@pytest.mark.timeout(30)
def test_process_tcp_port_zero_and_sigint(spawn: type[SimProcess]) -> None:
    """serve --tcp 127.0.0.1:0 prints the real port; SIGINT stops it cleanly."""
    sim = spawn("serve", "--tcp", "127.0.0.1:0")
    host = SocketHost(sim.tcp_port())
    try:
        assert host.exchange(b"\x10" + pw())[:2] == b"\x10\x00"
    finally:
        host.close()
    assert sim.stop(signal.SIGINT) == 0
    assert sim.proc.stderr is not None
    assert "stopping" in sim.proc.stderr.read()


@pytest.mark.timeout(30)
def test_process_document_survives_sigkill(spawn: type[SimProcess], tmp_path: Path) -> None:
    """A receipt answered as done is in the state file after SIGKILL; the open one is not."""
    state = tmp_path / "fn.db"
    sim = spawn("serve", "--tcp", "127.0.0.1:0", "--state", str(state))
    host = SocketHost(sim.tcp_port())
    host.exchange(b"\xe0" + pw())
    host.exchange(b"\x80" + sale_body(price=15000))
    done = host.exchange(b"\x85" + close_body(20000))
    assert done[:2] == b"\x85\x00"
    host.exchange(b"\x80" + sale_body(price=999))  # left open: lost with the process
    sim.proc.kill()
    sim.proc.wait(timeout=START_TIMEOUT_S)
    host.close()

    again = spawn("serve", "--tcp", "127.0.0.1:0", "--state", str(state))
    host = SocketHost(again.tcp_port())
    try:
        status = host.exchange(b"\x10" + pw())
        assert status[5] == 2  # shift open, no receipt
        fn = host.exchange(b"\xff\x01" + pw(SYSADMIN))
        assert int.from_bytes(fn[29:33], "little") == 3
        found = host.exchange(b"\xff\x0a" + pw(SYSADMIN) + u(3, 4))
        assert int.from_bytes(found[19:24], "little") == 15000
        drawer = host.exchange(b"\x1a" + pw() + b"\xf1")
        assert int.from_bytes(drawer[3:9], "little") == 15000
    finally:
        host.close()
    assert again.stop() == 0
    receipts = [doc for doc in _tape(state) if doc["type"] == "receipt"]
    assert [(r["fd"], r["total"], r["change"]) for r in receipts] == [(3, "150.00", "50.00")]


@pytest.mark.timeout(30)
def test_process_tape_json_lines(spawn: type[SimProcess], tmp_path: Path) -> None:
    """tape prints one JSON object per FD with the contract's fields; --all adds cash moves."""
    state = tmp_path / "fn.db"
    sim = spawn("serve", "--tcp", "127.0.0.1:0", "--state", str(state))
    host = SocketHost(sim.tcp_port())
    try:
        host.exchange(b"\xe0" + pw())
        host.exchange(b"\x50" + pw() + u(5000, 5))
        host.exchange(b"\x82" + sale_body(price=3000))
        host.exchange(b"\xff\x0c" + pw(SYSADMIN) + tlv(1008, b"a@b.ru") + tlv(1021, b"Ivanova"))
        host.exchange(b"\x85" + close_body(3000))
        host.exchange(b"\x41" + pw(SYSADMIN))
    finally:
        host.close()
    assert sim.stop() == 0
    tape = _tape(state)
    assert [d["type"] for d in tape] == ["registration", "open_shift", "receipt", "close_shift"]
    receipt = tape[2]
    for key in (
        "fd",
        "type",
        "kind",
        "total",
        "shift",
        "issued_at",
        "fp",
        "number",
        "payments",
        "items",
        "tags",
    ):
        assert key in receipt
    assert receipt["kind"] == "refund"
    assert receipt["total"] == "30.00"
    assert receipt["tags"] == {"1021": "Ivanova", "has_contact": True}
    assert "a@b.ru" not in json.dumps(tape)
    assert str(receipt["issued_at"]).endswith("+03:00")
    everything = _tape(state, "--all")
    assert [d["type"] for d in everything].count("cash_in") == 1
    assert len(everything) == len(tape) + 1


def _post(control: str, path: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL the simulator printed
        control + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
        return dict(json.load(resp))


@pytest.mark.timeout(30)
def test_process_pty_marked_receipt_refused_after_reads_back(
    spawn: type[SimProcess], tmp_path: Path
) -> None:
    """On a pty: FF45 refused after it ran; FF3A/FF3B then find the mark in FD 3; tape shows it."""
    state = tmp_path / "fn.db"
    sim = spawn("serve", "--pty", "--state", str(state), "--control", "127.0.0.1:0")
    host = PtyHost(sim.line())
    control = sim.line().split(" ", 1)[1]
    mark = bytes.fromhex("3c 04 14 00 3d 04 06 00") + b"CRM ID" + bytes.fromhex("3e 04 06 00")
    mark += b"req-77"
    try:
        assert host.exchange(b"\xe0" + pw()) == b"\xe0\x00\x01"
        assert host.exchange(b"\xff\x46" + ff46_body()) == b"\xff\x46\x00"
        assert host.exchange(b"\xff\x0c" + pw(SYSADMIN) + mark) == b"\xff\x0c\x00"
        _post(control, "/faults/refuse", {"on_command": "FF45", "code": 69, "after": True})
        assert host.exchange(b"\xff\x45" + ff45_body({1: 10000})) == b"\xff\x45\x45"
        head = host.exchange(b"\xff\x3a" + pw(SYSADMIN) + u(3, 4))
        assert head[:5] == b"\xff\x3a\x00\x03\x00"
        data = b""
        while (answer := host.exchange(b"\xff\x3b" + pw(SYSADMIN)))[2] == 0:
            data += answer[3:]
        assert answer == b"\xff\x3b\x08"
        assert len(data) == int.from_bytes(head[5:7], "little")
        assert data.endswith(mark)
        assert data[8:16] == bytes.fromhex("10 04 04 00 03 00 00 00")  # 1040 = 3, after 1012
    finally:
        host.close()
    assert sim.stop() == 0
    receipt = _tape(state)[-1]
    assert (receipt["fd"], receipt["mark"], receipt["mark_name"]) == (3, "req-77", "CRM ID")


@pytest.mark.timeout(30)
def test_process_shift_age_over_24h_starts_locked(spawn: type[SimProcess]) -> None:
    """--shift-age 90000 starts in mode 3: sales 0x4E, Z still closes the shift."""
    sim = spawn("serve", "--tcp", "127.0.0.1:0", "--shift-age", "90000")
    host = SocketHost(sim.tcp_port())
    try:
        assert host.exchange(b"\x10" + pw())[5] == 3
        assert host.exchange(b"\x80" + sale_body()) == b"\x80\x4e"
        assert host.exchange(b"\x41" + pw(SYSADMIN))[:2] == b"\x41\x00"
        assert host.exchange(b"\x10" + pw())[5] == 4
    finally:
        host.close()
    assert sim.stop() == 0


@pytest.mark.timeout(30)
def test_process_state_file_keeps_its_fn(spawn: type[SimProcess], tmp_path: Path) -> None:
    """A state file belongs to one FN: another --fn-serial is refused with exit code 2."""
    state = tmp_path / "fn.db"
    sim = spawn(
        "serve", "--tcp", "127.0.0.1:0", "--state", str(state), "--fn-serial", "1111222233334444"
    )
    sim.tcp_port()
    assert sim.stop() == 0
    other = spawn(
        "serve", "--tcp", "127.0.0.1:0", "--state", str(state), "--fn-serial", "5555666677778888"
    )
    assert other.proc.wait(timeout=START_TIMEOUT_S) == 2
    assert other.proc.stderr is not None
    assert "1111222233334444" in other.proc.stderr.read()


@pytest.mark.timeout(30)
def test_process_survives_garbage_storm(spawn: type[SimProcess]) -> None:
    """Random bytes on the wire do not kill the server; a clean command works after."""
    import random  # noqa: PLC0415
    import socket  # noqa: PLC0415

    sim = spawn("serve", "--tcp", "127.0.0.1:0", "--log-level", "warning")
    port = sim.tcp_port()
    rng = random.Random(7)
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        for _ in range(50):
            raw.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))))
    deadline = time.monotonic() + 5
    while True:  # the first connection's close may take a moment to be noticed
        host = SocketHost(port)
        try:
            assert host.exchange(b"\x10" + pw())[:2] == b"\x10\x00"
            break
        except (ConnectionError, AssertionError):
            if time.monotonic() > deadline:
                raise
        finally:
            host.close()
    assert sim.proc.poll() is None
    assert sim.stop() == 0
