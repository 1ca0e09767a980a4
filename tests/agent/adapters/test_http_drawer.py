"""POST /api/v1/drawer and the calculation-state report: register commands behind the line.

Over the real driver and the simulator's device: the drawer opens with no document and no
outbox row; while a receipt's outcome is open (the line stopped) neither the drawer nor the
report reaches the register.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.fiscal.errors import LineStopped
from tests.support.agent_rig import AgentRig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

CLOSE = 0xFF45
OPEN_DRAWER = 0x28
STATE_REPORT = 0xFF38


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, on a register with an open shift."""
    async with running_agent(tmp_path) as made:
        yield made


def _openings(rig: AgentRig) -> int:
    summary = rig.register.device.summary(datetime.now(UTC))
    openings: int = summary["drawer_openings"]
    return openings


async def test_http_drawer_opens_without_a_document_or_a_row(rig: AgentRig) -> None:
    """200 ``{"status": "done"}``; the FN's last FD and the outbox stay as they were."""
    last_fd = rig.register.device.state.last_fd
    response = await rig.client.post("/api/v1/drawer")
    assert response.status == 200, await response.text()
    assert await response.json() == {"status": "done"}
    assert _openings(rig) == 1
    assert rig.register.device.state.last_fd == last_fd
    assert rig.outbox.list(limit=10) == []


async def test_drawer_and_report_wait_behind_a_stopped_line(rig: AgentRig) -> None:
    """A receipt's answer was lost: the drawer is 503 and the report refused, neither sent."""

    def close_then_pull_the_cable(payload: bytes) -> bytes:
        answer = rig.register.device.handle(payload, datetime.now(UTC))
        rig.register.link.unplug()
        del rig.register.intercept[CLOSE]
        return answer

    rig.register.intercept[CLOSE] = close_then_pull_the_cable
    posted = await rig.client.post("/api/v1/receipts", json=receipt("coffee-a", 15000))
    assert posted.status == 202
    await until(lambda: rig.worker.line)
    sent = len(rig.register.commands)
    response = await rig.client.post("/api/v1/drawer")
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "line_stopped"
    with pytest.raises(LineStopped):
        await rig.intake.ofd_report()
    assert not {OPEN_DRAWER, STATE_REPORT} & set(rig.register.commands[sent:])
    rig.register.link.plug()
    await until(lambda: rig.worker.line is None)
    report = await rig.intake.ofd_report()
    assert report.fd == rig.register.device.state.last_fd
    assert (await rig.client.post("/api/v1/drawer")).status == 200
    assert _openings(rig) == 1
