"""systemd readiness and watchdog notifications (sd_notify), without libsystemd.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET``; the agent sends ``READY=1`` once the
outbox is open and the HTTP API listens, and ``WATCHDOG=1`` from its event loop at half the
``WATCHDOG_USEC`` interval, so a wedged loop gets the service restarted. Outside systemd
every call is a no-op.
"""

from __future__ import annotations

import os
import socket

__all__ = ["SystemdNotifier"]


class SystemdNotifier:
    """Sends sd_notify datagrams when running under systemd."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        self._address = address
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval_s: float | None = int(usec) / 2_000_000 if usec.isdigit() else None

    @property
    def is_enabled(self) -> bool:
        """True under systemd (NOTIFY_SOCKET set)."""
        return bool(self._address)

    def notify(self, message: str) -> None:
        """Send one notification (``READY=1``, ``WATCHDOG=1``, ``STATUS=...``)."""
        if not self._address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(self._address)
            sock.sendall(message.encode())
