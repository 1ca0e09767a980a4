"""A row withdrawn while the worker prepares it is never printed, and the worker carries on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.outbox.states import RowState
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

READ_TABLE = (
    0x1F  # the first receipt's intent reads the tax table, then the ledger, then records it
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    async with agent_rig(tmp_path) as made:
        await made.service.connect()
        await made.service.open_shift()
        task = asyncio.create_task(made.worker.run(), name="worker")
        try:
            yield made
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_withdrawn_between_prepare_and_intent_is_never_printed(rig: AgentRig) -> None:
    def withdraw_while_preparing(_payload: bytes) -> None:
        # Only the worker's intent reads the tax table (once a link, before its first receipt):
        # the row is withdrawn after the worker took it and before it records the intent.
        row = rig.outbox.get("late-1")
        if row is not None and row.state is RowState.PENDING:
            del rig.register.intercept[READ_TABLE]
            rig.outbox.withdraw("late-1", message="expired")

    rig.register.intercept[READ_TABLE] = withdraw_while_preparing
    response = await rig.client.post("/api/v1/receipts", json=receipt("late-1", 15000))
    assert response.status == 202
    async with asyncio.timeout(10):
        while READ_TABLE in rig.register.intercept:
            await asyncio.sleep(0.01)
    response = await rig.client.post("/api/v1/receipts", json=receipt("next-1", 16000))
    assert response.status == 202
    async with asyncio.timeout(10):
        while (row := rig.outbox.get("next-1")) is None or row.state is not RowState.DONE:
            await asyncio.sleep(0.01)
    late = rig.outbox.get("late-1")
    assert late is not None
    assert late.state is RowState.FAILED
    marks = [d.tags.mark.value for d in rig.register.device.state.documents if d.tags.mark]
    assert marks == ["next-1"]
