"""sd_notify over a real AF_UNIX datagram socket, as systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from pathlib import Path

from agent.adapters.systemd_notify import SystemdNotifier, ping_watchdog


def test_notifier_sends_datagrams_to_the_notify_socket(tmp_path: Path) -> None:
    """READY=1 and WATCHDOG=1 arrive as datagrams; the watchdog interval is half WATCHDOG_USEC."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(2)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
        assert notifier.is_enabled
        assert notifier.watchdog_interval_s == 15.0
        notifier.notify("READY=1")
        notifier.notify("WATCHDOG=1")
        assert systemd.recv(64) == b"READY=1"
        assert systemd.recv(64) == b"WATCHDOG=1"


def test_notifier_reaches_an_abstract_socket() -> None:
    """An address starting with @ is in the abstract namespace."""
    name = f"fiscal-agent-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind("\0" + name)
        systemd.settimeout(2)
        SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).notify("READY=1")
        assert systemd.recv(64) == b"READY=1"


def test_notifier_outside_systemd_does_nothing() -> None:
    """Without NOTIFY_SOCKET every call is a no-op and there is no watchdog."""
    notifier = SystemdNotifier({})
    assert not notifier.is_enabled
    assert notifier.watchdog_interval_s is None
    notifier.notify("READY=1")


def test_notifier_leaves_a_watchdog_meant_for_another_process_alone() -> None:
    """WATCHDOG_PID of another process (a parent's environment inherited): no watchdog here."""
    other = SystemdNotifier(
        {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_interval_s is None
    mine = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    assert SystemdNotifier(mine).watchdog_interval_s == 0.5


def _drain(sock: socket.socket) -> list[bytes]:
    got: list[bytes] = []
    while True:
        try:
            got.append(sock.recv(64))
        except BlockingIOError:
            return got


async def test_watchdog_pings_only_while_the_event_loop_runs(tmp_path: Path) -> None:
    """Pings every half interval from the loop; a blocked loop sends none; they resume after."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.setblocking(False)  # noqa: FBT003 - the socket API
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
        task = asyncio.create_task(ping_watchdog(notifier))
        try:
            await asyncio.sleep(0.45)
            assert len(_drain(systemd)) >= 3  # at 0, 0.1, 0.2, 0.3, 0.4 s on an idle machine
            time.sleep(0.6)  # the loop is blocked: the watchdog task cannot run
            assert _drain(systemd) == []
            await asyncio.sleep(0.25)
            assert set(_drain(systemd)) == {b"WATCHDOG=1"}
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_watchdog_without_watchdog_usec_returns_at_once() -> None:
    """systemd set no watchdog: the task ends at once and sends nothing."""
    async with asyncio.timeout(1):
        await ping_watchdog(SystemdNotifier({"NOTIFY_SOCKET": "/x"}))
