"""sd_notify over a real AF_UNIX datagram socket, as systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from agent.adapters.systemd_notify import SystemdNotifier


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
