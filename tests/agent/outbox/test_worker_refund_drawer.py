"""A refund the drawer cannot cover fails with advice, and prints under its own id after a cash-in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.outbox.states import RowState
from tests.support.agent_rig import AgentRig, agent_rig, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)


def _final(rig: AgentRig, request_id: str) -> Any:
    row = rig.outbox.get(request_id)
    return (
        row if row is not None and row.state not in {RowState.PENDING, RowState.PRINTING} else None
    )


async def test_refund_above_the_drawer_fails_then_prints_once_after_a_cash_in(
    tmp_path: Path,
) -> None:
    """refund_exceeds_drawer (failed, with advice); cash in; the same id sent again prints once."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        task = asyncio.create_task(rig.worker.run(), name="worker")
        try:
            refund = {**receipt("refund-1", 30000), "kind": "refund"}
            assert (await rig.client.post("/api/v1/receipts", json=refund)).status == 202
            row = await until(lambda: _final(rig, "refund-1"))
            assert (row.state, row.error_code) == (RowState.FAILED, "refund_exceeds_drawer")
            assert "put cash in the drawer" in (row.error_message or "")
            again = await rig.client.post("/api/v1/receipts", json=refund)
            assert again.status == 202  # taken again, but the drawer is still short
            row = await until(lambda: _final(rig, "refund-1"))
            assert row.state is RowState.FAILED
            cash = {"id": "cash-1", "direction": "in", "amount": "500.00"}
            cash_answer = await rig.client.post("/api/v1/cash", json=cash)
            assert (await cash_answer.json())["status"] == "done"
            assert (await rig.client.post("/api/v1/receipts", json=refund)).status == 202
            done = await until(lambda: _final(rig, "refund-1"))
            assert done.state is RowState.DONE
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        refunds = [d for d in rig.register.device.state.documents if d.tags.mark is not None]
        assert [d.tags.mark.value for d in refunds if d.tags.mark] == ["refund-1"]
        assert rig.register.device.state.money_register(241) == 50000 - 30000
