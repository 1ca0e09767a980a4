"""The worker over the real driver and the simulator's device: the line stop, and host clock jumps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.fiscal.errors import LineStopped
from agent.outbox.states import RowState
from tests.support.agent_rig import AgentRig, agent_rig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

COFFEE = 15000
CLOSE = 0xFF45
RECEIPT_NOT_OPEN = 0x55


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, on a register with an open shift."""
    async with running_agent(tmp_path) as made:
        yield made


async def _post(rig: AgentRig, request_id: str) -> None:
    response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, COFFEE))
    assert response.status == 202, await response.text()


def _state(rig: AgentRig, request_id: str) -> RowState:
    row = rig.outbox.get(request_id)
    assert row is not None
    return row.state


def _marks(rig: AgentRig) -> list[str]:
    return [d.tags.mark.value for d in rig.register.device.state.documents if d.tags.mark]


async def test_worker_line_stops_behind_a_receipt_whose_answer_was_lost(rig: AgentRig) -> None:
    """The close ran but its answer never came: nothing else prints until the FN says."""

    def close_then_pull_the_cable(payload: bytes) -> bytes:
        answer = rig.register.device.handle(payload, datetime.now(UTC))
        rig.register.link.unplug()
        del rig.register.intercept[CLOSE]
        return answer

    rig.register.intercept[CLOSE] = close_then_pull_the_cable
    await _post(rig, "coffee-a")
    line = await until(lambda: rig.worker.line)
    assert line.row == "coffee-a"
    await _post(rig, "coffee-b")
    await asyncio.sleep(0.3)  # the worker had every chance to print coffee-b
    assert _state(rig, "coffee-a") is RowState.PRINTING
    assert _state(rig, "coffee-b") is RowState.PENDING
    with pytest.raises(LineStopped) as info:
        await rig.worker.execute(lambda service: service.x_report())
    assert info.value.row_id == "coffee-a"
    # Refused at once, even while settling holds the register (an ATOL read behind a blocked
    # task holds it for up to 30 s): never a wait for the lock first.
    async with rig.worker.register_lock:
        with pytest.raises(LineStopped):
            await asyncio.wait_for(rig.worker.execute(lambda service: service.x_report()), 1.0)
    rig.register.link.plug()
    await until(lambda: _state(rig, "coffee-b") is RowState.DONE)
    assert _state(rig, "coffee-a") is RowState.DONE
    assert _marks(rig) == ["coffee-a", "coffee-b"], "coffee-a was proven issued, not reprinted"
    assert rig.worker.line is None


async def test_worker_gives_up_in_printing_then_settles_before_anything_else(
    rig: AgentRig,
) -> None:
    """Attempts used up on a refused close: the row is settled (not issued) and printed first."""
    refusals = {"left": 2}  # = the rig's retry_attempts

    def refuse_before_running(payload: bytes) -> bytes | None:
        if refusals["left"] == 0:
            return None
        refusals["left"] -= 1
        return payload[:2] + bytes([RECEIPT_NOT_OPEN])

    rig.register.intercept[CLOSE] = refuse_before_running
    await _post(rig, "coffee-a")
    await until(lambda: refusals["left"] == 0)
    await _post(rig, "coffee-b")
    await until(lambda: _state(rig, "coffee-b") is RowState.DONE)
    assert _state(rig, "coffee-a") is RowState.DONE
    assert _marks(rig) == ["coffee-a", "coffee-b"]
    a, b = rig.outbox.get("coffee-a"), rig.outbox.get("coffee-b")
    assert a is not None
    assert b is not None
    assert a.fiscal is not None
    assert b.fiscal is not None
    assert a.fiscal.fd != b.fiscal.fd


async def test_worker_host_clock_jumping_hours_breaks_neither_guard_nor_retries(
    tmp_path: Path,
) -> None:
    """The host clock jumps 5 h forward, then 10 h back: receipts print, no shift is rotated."""
    offset = {"value": timedelta(0)}

    def jumping_clock() -> datetime:
        return datetime.now(UTC) + offset["value"]

    async with agent_rig(tmp_path, clock=jumping_clock) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        refusals = {"left": 1}

        def refuse_once(payload: bytes) -> bytes | None:
            if refusals["left"] == 0:
                return None
            refusals["left"] -= 1
            offset["value"] = timedelta(hours=-5)  # jumps back while the worker backs off
            return payload[:2] + bytes([RECEIPT_NOT_OPEN])

        rig.register.intercept[CLOSE] = refuse_once
        task = asyncio.create_task(rig.worker.run(), name="worker")
        try:
            offset["value"] = timedelta(hours=5)
            await _post(rig, "coffee-a")
            await until(lambda: _state(rig, "coffee-a") is RowState.DONE)
            await _post(rig, "coffee-b")
            await until(lambda: _state(rig, "coffee-b") is RowState.DONE)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        kinds = [doc.type.value for doc in rig.register.device.state.documents]
        assert kinds == ["registration", "open_shift", "receipt", "receipt"], kinds
        assert _marks(rig) == ["coffee-a", "coffee-b"]
        row = rig.outbox.get("coffee-a")
        assert row is not None
        assert row.attempts == 1  # the refusal was retried, not given up on
