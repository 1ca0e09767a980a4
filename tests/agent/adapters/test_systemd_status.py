"""The STATUS= line under ``systemctl status fiscal-agent``: what it says and when it is sent."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import structlog

from agent.adapters.systemd_notify import SystemdNotifier
from agent.adapters.systemd_status import report_status, status_line
from agent.contract import Health

EXAMPLES: list[dict[str, Any]] = Health.model_config["json_schema_extra"]["examples"]  # type: ignore[index,assignment]


def _example(state: str) -> Health:
    return Health.model_validate(next(e for e in EXAMPLES if e["state"] == state and "outbox" in e))


def test_status_line_of_a_healthy_agent() -> None:
    """The contract's online example: queue, shift number and age, what waits for the broker."""
    assert status_line(_example("online")) == "online: 0 pending, shift 12 open 6h52m, 2 to sync"


def test_status_line_of_an_agent_whose_register_is_off() -> None:
    """The contract's degraded example: the reason first, the shift unknown so not shown."""
    assert status_line(_example("degraded")) == "degraded (link_down): 3 pending"


def test_status_line_names_the_stopped_line_unknown_rows_and_the_broker() -> None:
    """A stopped line, unknown rows, a closed shift and the broker's state all fit on the line."""
    health = Health.model_validate(
        {
            "state": "degraded",
            "register": {"link": "up", "error": "paper_out"},
            "shift": {"open": False, "number": 7},
            "outbox": {"pending": 5, "failed": 0, "unknown": 1},
            "line": {"stopped": True, "row": "crm-9"},
            "sync": {"pending": 0, "broker": "down"},
        }
    )
    assert status_line(health) == (
        "degraded (paper_out): 5 pending, 1 unknown, line stopped behind crm-9, "
        "shift 7 closed, broker down"
    )


def test_status_line_says_register_down_when_no_error_names_it() -> None:
    """A register link down with another error (or none) still says the register is down."""
    health = Health.model_validate(
        {"state": "degraded", "register": {"link": "down"}, "outbox": {"pending": 0, "failed": 0}}
    )
    assert status_line(health) == "degraded: 0 pending, register down"


async def test_report_status_sends_a_changed_line_once_and_survives_a_failing_health(
    tmp_path: Path,
) -> None:
    """Sent when it changes, not again while the same; a health that raises is logged, not fatal."""
    path = tmp_path / "notify.sock"
    answers: list[Health | Exception] = [
        _example("online"),
        _example("online"),
        RuntimeError("disk gone"),
        _example("degraded"),
    ]
    asked = asyncio.Event()

    async def health() -> Health:
        answer = answers.pop(0) if answers else _example("degraded")
        if not answers:
            asked.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.setblocking(False)  # noqa: FBT003 - the socket API
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path)})
        log = structlog.get_logger("test")
        with structlog.testing.capture_logs() as logs:
            task = asyncio.create_task(report_status(notifier, health, log, interval_s=0.01))
            try:
                async with asyncio.timeout(2):
                    await asked.wait()  # every answer was given
                await asyncio.sleep(0.05)  # the last one sent, or not: it did not change
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        sent: list[bytes] = []
        with contextlib.suppress(BlockingIOError):
            while True:
                sent.append(systemd.recv(256))
    assert sent == [
        b"STATUS=online: 0 pending, shift 12 open 6h52m, 2 to sync",
        b"STATUS=degraded (link_down): 3 pending",
    ]
    assert [entry["event"] for entry in logs] == ["systemd_status_failed"]


async def test_report_status_outside_systemd_returns_at_once() -> None:
    """No NOTIFY_SOCKET: nothing to report to, and health is never asked."""

    async def health() -> Health:
        raise AssertionError("health asked outside systemd")

    async with asyncio.timeout(1):
        await report_status(SystemdNotifier({}), health, structlog.get_logger("test"))
