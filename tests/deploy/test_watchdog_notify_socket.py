"""The real agent under a notify-socket harness, as systemd runs it with Type=notify.

The test owns the AF_UNIX datagram socket systemd would (NOTIFY_SOCKET) and sets
WATCHDOG_USEC to 1 s. The register's port has nobody listening, as a switched-off register:
READY=1 still comes, WATCHDOG=1 comes every half second, STATUS= says why it is degraded.
Then the process is stopped (SIGSTOP): a stopped event loop sends no WATCHDOG=1, which is
what lets systemd kill a wedged agent; after SIGCONT the pings come back.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import Agent, free_port, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

WATCHDOG_USEC = 1_000_000
STOPPED_S = 3.0


@dataclass
class NotifySocket:
    """What systemd's end of NOTIFY_SOCKET received, each datagram with its arrival time."""

    path: Path
    sock: socket.socket
    received: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listen(self) -> None:
        """Collect datagrams until the socket is closed."""
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            with self.lock:
                self.received.append((time.monotonic(), data.decode()))

    def messages(self, *, since: float = 0.0, prefix: str = "") -> list[tuple[float, str]]:
        """Datagrams that arrived after ``since`` and start with ``prefix``."""
        with self.lock:
            return [(at, m) for at, m in self.received if at > since and m.startswith(prefix)]


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    """A bound datagram socket in a short path (AF_UNIX paths stop at 107 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="notify-", dir="/tmp"))
    path = directory / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    harness = NotifySocket(path=path, sock=sock)
    thread = threading.Thread(target=harness.listen, name="notify-socket", daemon=True)
    thread.start()
    yield harness
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    thread.join(timeout=5)
    path.unlink(missing_ok=True)
    directory.rmdir()


@pytest.fixture
def agent(tmp_path: Path, notify_socket: NotifySocket) -> Iterator[Agent]:
    """The agent as a process; its register's TCP port has nobody listening."""
    process = Agent(
        workdir=tmp_path,
        register_url=f"socket://127.0.0.1:{free_port()}",
        env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": str(WATCHDOG_USEC)},
    )
    process.start()
    yield process
    if process.proc is not None and process.proc.poll() is None:
        os.kill(process.proc.pid, signal.SIGCONT)
    process.stop()


def _state(pid: int) -> str:
    """The process's state letter from /proc (T: stopped)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def test_ready_watchdog_and_status_with_the_register_switched_off(
    agent: Agent, notify_socket: NotifySocket
) -> None:
    """READY=1 without a register, then a WATCHDOG=1 well within every WATCHDOG_USEC, and STATUS=."""
    ready = wait_until(
        lambda: notify_socket.messages(prefix="READY=1"), timeout_s=20, what="READY=1"
    )[0][0]
    status = wait_until(
        lambda: [m for _, m in notify_socket.messages(prefix="STATUS=") if "link_down" in m],
        timeout_s=15,
        what="a STATUS= naming the register link",
    )[0]
    assert status.startswith("STATUS=degraded (link_down): 0 pending")
    assert "broker down" in status  # nobody listens on the broker's port either

    time.sleep(3)
    pings = [at for at, _ in notify_socket.messages(since=ready, prefix="WATCHDOG=1")]
    assert len(pings) >= 5  # every 0.5 s
    gaps = [later - earlier for earlier, later in itertools.pairwise(pings)]
    assert max(gaps) < WATCHDOG_USEC / 1e6, gaps  # systemd would never have fired
    assert agent.is_alive()


def test_a_stopped_event_loop_sends_no_watchdog(agent: Agent, notify_socket: NotifySocket) -> None:
    """SIGSTOP: not one WATCHDOG=1 for three watchdog intervals; after SIGCONT they resume."""
    wait_until(lambda: notify_socket.messages(prefix="READY=1"), timeout_s=20, what="READY=1")
    wait_until(
        lambda: len(notify_socket.messages(prefix="WATCHDOG=1")) >= 2,
        timeout_s=5,
        what="the first pings",
    )
    assert agent.proc is not None
    pid = agent.proc.pid

    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: _state(pid) == "T", timeout_s=5, what="the agent to stop")
    stopped_at = time.monotonic() + 0.1  # a datagram already in flight may land just after
    time.sleep(STOPPED_S)
    during = notify_socket.messages(since=stopped_at)
    os.kill(pid, signal.SIGCONT)
    resumed_at = time.monotonic()

    assert during == []
    wait_until(
        lambda: notify_socket.messages(since=resumed_at, prefix="WATCHDOG=1"),
        timeout_s=WATCHDOG_USEC / 1e6,
        what="a ping after SIGCONT",
    )
    agent.stop()
    assert agent.proc.returncode == 0
    assert notify_socket.messages(since=resumed_at, prefix="STOPPING=1")
