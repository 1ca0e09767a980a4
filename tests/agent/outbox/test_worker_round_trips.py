"""A one-item receipt costs four register round trips in steady state, intent included."""

from __future__ import annotations

from pathlib import Path

from tests.support.agent_rig import agent_rig
from tests.support.payloads import receipt

STEADY_STATE = [0xFF01, 0xFF46, 0xFF0C, 0xFF45]
"""The FN's last FD for the intent, the item, the cashier's tags with the mark, the close."""


async def test_round_trips_one_item_receipt_in_steady_state_is_four(tmp_path: Path) -> None:
    """After the first receipts, each costs FF01, FF46, FF0C, FF45 and nothing else."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        per_receipt: list[list[int]] = []
        for n in range(4):
            response = await rig.client.post("/api/v1/receipts", json=receipt(f"c-{n}", 15000))
            assert response.status == 202
            row = rig.outbox.get(f"c-{n}")
            assert row is not None
            start = len(rig.register.commands)
            await rig.worker._process(row)
            per_receipt.append(rig.register.command_codes()[start:])
        assert per_receipt[-1] == STEADY_STATE, [[hex(c) for c in r] for r in per_receipt]
        assert per_receipt[-2] == STEADY_STATE
