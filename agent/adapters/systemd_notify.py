"""systemd readiness and watchdog notifications (sd_notify), without libsystemd.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET``; the agent sends ``READY=1`` once the
outbox is open, the HTTP API listens and the MQTT link is started (never waiting for the
register or the broker: a switched-off register must not hold the start up or cause a restart
loop), and ``WATCHDOG=1`` from a task on its event loop at half the ``WATCHDOG_USEC``
interval. The ping is sent only when that task runs, so a loop that is blocked (a call that
never returns, a hung thread holding the GIL, the process stopped) sends none, and systemd
kills and restarts the service. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import asyncio
import os
import socket

__all__ = ["SystemdNotifier", "ping_watchdog"]


class SystemdNotifier:
    """Sends sd_notify datagrams when running under systemd."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        self._address = address
        usec = env.get("WATCHDOG_USEC", "")
        # WATCHDOG_PID names the process the watchdog is meant for (sd_watchdog_enabled(3)):
        # a child that inherited the environment must not ping for its parent.
        pid = env.get("WATCHDOG_PID", "")
        is_ours = not pid.isdigit() or int(pid) == os.getpid()
        self.watchdog_interval_s: float | None = (
            int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 and is_ours else None
        )

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


async def ping_watchdog(notifier: SystemdNotifier) -> None:
    """``WATCHDOG=1`` every half watchdog interval, from the event loop, until cancelled.

    Returns at once when systemd set no watchdog.
    """
    interval = notifier.watchdog_interval_s
    if interval is None:
        return
    while True:
        notifier.notify("WATCHDOG=1")
        await asyncio.sleep(interval)
