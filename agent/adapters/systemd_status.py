"""The one line ``systemctl status fiscal-agent`` shows under "Status:" (sd_notify ``STATUS=``).

A person on site sees at a glance whether the agent prints, what waits and whether the
broker is there, e.g. ``online: 0 pending, shift 12 open 3h05m, broker up`` or
``degraded (link_down): 4 pending, register down, broker up``. The line is built from the
same health the HTTP API and the broker get, at most every ``STATUS_INTERVAL_S``, and sent
only when it changed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.adapters.systemd_notify import SystemdNotifier
    from agent.contract import Health

__all__ = ["STATUS_INTERVAL_S", "report_status", "status_line"]

STATUS_INTERVAL_S: Final = 5.0
"""How often health is read for the status line: cheap next to the broker's health check."""


def status_line(health: Health) -> str:
    """One line for ``systemctl status``: state, queue, shift, broker."""
    register = health.register
    head: str = health.state
    if register is not None and register.error:
        head += f" ({register.error})"
    outbox = health.outbox
    parts = [f"{outbox.pending if outbox is not None else 0} pending"]
    if outbox is not None and outbox.unknown:
        parts.append(f"{outbox.unknown} unknown")
    line = health.line
    if line is not None and line.stopped:
        parts.append(f"line stopped behind {line.row}")
    if register is not None and register.link == "down" and register.error != "link_down":
        parts.append("register down")
    shift = health.shift
    if shift is not None and shift.number is not None:
        if shift.open:
            parts.append(f"shift {shift.number} open {_age(shift.age_s)}")
        else:
            parts.append(f"shift {shift.number} closed")
    sync = health.sync
    if sync is not None:
        if sync.pending:
            parts.append(f"{sync.pending} to sync")
        if sync.broker is not None:
            parts.append(f"broker {sync.broker}")
    return f"{head}: {', '.join(parts)}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = int(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


async def report_status(
    notifier: SystemdNotifier,
    health: Callable[[], Awaitable[Health]],
    log: structlog.typing.FilteringBoundLogger,
    *,
    interval_s: float = STATUS_INTERVAL_S,
) -> None:
    """Send ``STATUS=`` whenever the line changes, until cancelled; nothing outside systemd."""
    if not notifier.is_enabled:
        return
    last: str | None = None
    while True:
        try:
            line = status_line(await health())
            if line != last:
                notifier.notify(f"STATUS={line}")
                last = line
        except asyncio.CancelledError:
            raise
        except Exception:  # a status line must never stop the agent (docs/style.md §4)
            log.warning("systemd_status_failed", exc_info=True)
        await asyncio.sleep(interval_s)
