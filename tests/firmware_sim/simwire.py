"""Test-side request builders for the simulator, written from docs/shtrih-wire-notes.md §2.

They do not use firmware_sim.commands: a layout misread there must show up here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from firmware_sim.device import Device
from firmware_sim.state import DeviceConfig, DeviceState

CASHIER, ADMIN, SYSADMIN = 1, 29, 30
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FN_SERIAL = "9999078900012345"
COMPUTE = 0xFF_FF_FF_FF_FF


def config(**overrides: object) -> DeviceConfig:
    """A register config with test defaults."""
    values: dict[str, object] = {
        "fn_serial": FN_SERIAL,
        "serial": "12345678",
        "fn_valid_until": date(2029, 1, 31),
    }
    values.update(overrides)
    return DeviceConfig(**values)


def pw(number: int = CASHIER) -> bytes:
    """A 4-byte LE password."""
    return number.to_bytes(4, "little")


def u(value: int, width: int) -> bytes:
    """An unsigned LE integer."""
    return value.to_bytes(width, "little")


def text(value: str = "", width: int = 40) -> bytes:
    """A cp1251 text field NUL-padded to ``width``."""
    return value.encode("cp1251").ljust(width, b"\x00")


def code_bytes(cmd: int) -> bytes:
    """1-byte command, or FF xx."""
    return bytes([0xFF, cmd & 0xFF]) if cmd > 0xFF else bytes([cmd])


def sale_body(
    qty_milli: int = 1000,
    price: int = 10000,
    *,
    password: int = CASHIER,
    dept: int = 1,
    taxes: tuple[int, int, int, int] = (1, 0, 0, 0),
    name: str = "Товар",
    width: int = 48,
) -> bytes:
    """0x80/0x82 body: pwd, qty x1000 (5), price (5), dept, tax1..4, text."""
    return pw(password) + u(qty_milli, 5) + u(price, 5) + bytes([dept, *taxes]) + text(name, width)


def close_body(
    cash: int = 0,
    pay2: int = 0,
    pay3: int = 0,
    pay4: int = 0,
    *,
    password: int = CASHIER,
    discount: int = 0,
    width: int = 48,
) -> bytes:
    """0x85 body: pwd, 4 payments (5 each), discount (2), tax1..4, text."""
    return (
        pw(password)
        + u(cash, 5)
        + u(pay2, 5)
        + u(pay3, 5)
        + u(pay4, 5)
        + u(discount, 2)
        + bytes(4)
        + text("", width)
    )


def ff46_body(
    *,
    op_type: int = 1,
    qty_micro: int = 1_000_000,
    price: int = 10000,
    amount: int = COMPUTE,
    tax_sum: int = COMPUTE,
    tax_index: int = 4,
    dept: int = 1,
    method: int = 4,
    subject: int = 4,
    name: str = "Игровое время",
    password: int = SYSADMIN,
) -> bytes:
    """FF46 body per §2.8; a tax sum of 0xFFFFFFFFFF means "not given"."""
    return (
        pw(password)
        + bytes([op_type])
        + u(qty_micro, 6)
        + u(price, 5)
        + u(amount, 5)
        + u(tax_sum, 5)
        + bytes([tax_index, dept, method, subject])
        + name.encode("cp1251")
    )


def ff45_body(
    payments: dict[int, int],
    *,
    rounding: int = 0,
    tax_system: int = 0x02,
    password: int = SYSADMIN,
    note: str = "",
) -> bytes:
    """FF45 v1.17 body: 16 payment sums by type, rounding, 6 taxes, tax system, text."""
    sums = b"".join(u(payments.get(t, 0), 5) for t in range(1, 17))
    return (
        pw(password)
        + sums
        + bytes([rounding])
        + bytes(30)
        + bytes([tax_system])
        + note.encode("cp1251")
    )


def tlv(tag: int, value: bytes) -> bytes:
    """One TLV: tag u16 LE, length u16 LE, value."""
    return u(tag, 2) + u(len(value), 2) + value


@dataclass
class Register:
    """Drives a Device with a test clock and splits answers into (error, data)."""

    device: Device = field(default_factory=lambda: Device(config=config()))
    now: datetime = NOW

    @classmethod
    def with_state(cls, state: DeviceState, **overrides: object) -> Register:
        """A register restored from ``state``."""
        return cls(device=Device(config=config(**overrides), state=state))

    def send(self, payload: bytes) -> bytes:
        """The raw answer payload."""
        return self.device.handle(payload, self.now)

    def call(self, cmd: int, body: bytes = b"") -> tuple[int, bytes]:
        """Send ``cmd`` with ``body``; return (error code, data after the error byte)."""
        prefix = code_bytes(cmd)
        reply = self.send(prefix + body)
        assert reply[: len(prefix)] == prefix, f"answer {reply.hex()} does not echo {cmd:#x}"
        error = reply[len(prefix)]
        data = reply[len(prefix) + 1 :]
        if error:
            assert data == b"", "an error answer carries no data"
        return error, data

    def ok(self, cmd: int, body: bytes = b"") -> bytes:
        """Like :meth:`call` but the command must succeed; returns the data."""
        error, data = self.call(cmd, body)
        assert error == 0, f"command {cmd:#x} failed with {error:#04x}"
        return data

    def err(self, cmd: int, body: bytes = b"") -> int:
        """The error code of a command that must fail."""
        error, _ = self.call(cmd, body)
        assert error != 0, f"command {cmd:#x} unexpectedly succeeded"
        return error

    def tick(self, seconds: float) -> None:
        """Let host time pass."""
        self.now += timedelta(seconds=seconds)

    # shortcuts
    def status(self) -> bytes:
        """0x10 data."""
        return self.ok(0x10, pw(SYSADMIN))

    def mode(self) -> int:
        """The mode byte from 0x10."""
        return self.status()[3]

    def submode(self) -> int:
        """The submode from 0x10."""
        return self.status()[4]

    def open_shift(self) -> None:
        """0xE0 with the cashier password."""
        self.ok(0xE0, pw(CASHIER))

    def sell(self, price: int = 10000, cash: int | None = None, qty_milli: int = 1000) -> bytes:
        """8D sale + 0x80 + 0x85 paid in cash; returns the 0x85 data (op, change)."""
        self.ok(0x8D, pw(CASHIER) + b"\x00")
        self.ok(0x80, sale_body(qty_milli, price))
        total = (qty_milli * price + 500) // 1000
        return self.ok(0x85, close_body(cash if cash is not None else total))

    def money(self, register: int) -> int:
        """A money register via 0x1A (1- or 2-byte number)."""
        width = 1 if register < 256 else 2
        data = self.ok(0x1A, pw(CASHIER) + u(register, width))
        return int.from_bytes(data[1:7], "little")

    def operating(self, register: int) -> int:
        """An operating register via 0x1B."""
        data = self.ok(0x1B, pw(CASHIER) + u(register, 1))
        return int.from_bytes(data[1:3], "little")

    def last_fd(self) -> int:
        """Last FD from FF01."""
        data = self.ok(0xFF01, pw(SYSADMIN))
        return int.from_bytes(data[26:30], "little")


class BlockingHost:
    """A blocking host side of the link (test code, not the agent's): ENQ, frame, ACK."""

    def _read(self, count: int) -> bytes:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def exchange(self, payload: bytes) -> bytes:
        """ENQ/NAK, frame/ACK, answer/ACK; returns the answer payload."""
        from agent.drivers.shtrih.frame import encode_frame  # noqa: PLC0415

        self._send(b"\x05")
        if self._read(1) == b"\x06":  # an older answer was held: take it, as pyshtrih does
            head = self._read(2)
            self._read(head[1] + 1)
            self._send(b"\x06\x05")
            assert self._read(1) == b"\x15"
        self._send(encode_frame(payload))
        assert self._read(1) == b"\x06"
        head = self._read(2)
        assert head[0] == 0x02
        frame = head + self._read(head[1] + 1)
        self._send(b"\x06")
        return frame[2:-1]


class SocketHost(BlockingHost):
    """The host over TCP, for tests against a real process."""

    def __init__(self, port: int, *, timeout_s: float = 3.0) -> None:
        import socket  # noqa: PLC0415 - only the process tests need it

        self._sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)

    def _read(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self._sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("simulator closed the connection")
            data += chunk
        return data

    def _send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


class PtyHost(BlockingHost):
    """The host on the simulator's pty slave (raw mode, as the simulator leaves it)."""

    def __init__(self, path: str, *, timeout_s: float = 3.0) -> None:
        import os  # noqa: PLC0415

        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self._timeout_s = timeout_s

    def _read(self, count: int) -> bytes:
        import os  # noqa: PLC0415
        import select  # noqa: PLC0415
        import time  # noqa: PLC0415

        deadline = time.monotonic() + self._timeout_s
        data = b""
        while len(data) < count:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"pty: {len(data)} of {count} bytes in time")
            data += os.read(self._fd, count - len(data))
        return data

    def _send(self, data: bytes) -> None:
        import os  # noqa: PLC0415

        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        """Close the slave descriptor (the simulator keeps its own)."""
        import os  # noqa: PLC0415

        os.close(self._fd)


class LineReader:
    """Reads lines from a child's stdout pipe with a deadline (select + own buffer).

    A buffered file object would read both startup lines at once and leave the second
    invisible to select(); this reads the raw descriptor instead.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buf = b""

    def line(self, timeout_s: float) -> str:
        """The next line without its newline; AssertionError after ``timeout_s``."""
        import os  # noqa: PLC0415
        import select  # noqa: PLC0415
        import time  # noqa: PLC0415

        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(left, 0))
            assert ready, "the simulator printed nothing in time"
            chunk = os.read(self._fd, 4096)
            assert chunk, "the simulator closed its stdout"
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()
