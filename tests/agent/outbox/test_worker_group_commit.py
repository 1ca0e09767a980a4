"""Group commit: a receipt's done shares one transaction with the next receipt's intent.

Nothing is mocked: the register is the simulator's device behind the real driver, the outbox
a real SQLite file. The outbox's combined method is wrapped only to record its calls.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import Correction, CorrectionType, VatRate
from agent.outbox.orders import FiscalRecord
from agent.outbox.states import IllegalTransition, RowState
from agent.outbox.store import Outbox
from firmware_sim.state import MSK, DocType
from tests.support.agent_rig import AgentRig, agent_rig, host_now
from tests.support.payloads import receipt
from tests.support.receipts import goods_receipt

STEADY_STATE = [0xFF01, 0xFF46, 0xFF0C, 0xFF45]


def _record_group_commits(rig: AgentRig) -> list[tuple[str, str]]:
    """(done id, printing id) of every combined commit, in order."""
    calls: list[tuple[str, str]] = []
    real = rig.outbox.mark_done_and_printing

    def recording(done_id: str, **kwargs: Any) -> Any:
        row = real(done_id, **kwargs)
        calls.append((done_id, kwargs["id"]))
        return row

    rig.outbox.mark_done_and_printing = recording  # type: ignore[method-assign]
    return calls


async def _submit(rig: AgentRig, ids: list[str]) -> None:
    for n, request_id in enumerate(ids):
        response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, 15_000 + n))
        assert response.status == 202


async def _drain(rig: AgentRig, ids: list[str]) -> None:
    for _ in range(50):
        rows = [rig.outbox.get(request_id) for request_id in ids]
        if all(row is not None and row.state is RowState.DONE for row in rows):
            return
        await rig.worker._step(is_started=True)
    pytest.fail("the receipts were not all done")


async def test_a_burst_stores_each_done_with_the_next_intent(tmp_path: Path) -> None:
    """Four waiting receipts: three combined commits, the last done alone, one FD each."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _submit(rig, ["warm"])
        await _drain(rig, ["warm"])  # the link's first receipt checks the VAT setup
        calls = _record_group_commits(rig)
        ids = [f"c-{n}" for n in range(4)]
        await _submit(rig, ids)
        start = len(rig.register.commands)
        await _drain(rig, ids)

        assert calls == [("c-0", "c-1"), ("c-1", "c-2"), ("c-2", "c-3")]
        assert rig.worker._owed is None
        rows = [rig.outbox.get(request_id) for request_id in ids]
        fds = [row.fiscal.fd for row in rows if row is not None and row.fiscal is not None]
        assert len(set(fds)) == len(ids)
        marks = [row.fiscal.mark for row in rows if row is not None and row.fiscal is not None]
        assert marks == ids
        # The next receipt's FD is still read fresh for its intent: four round trips each.
        assert rig.register.command_codes()[start:] == STEADY_STATE * len(ids)


async def test_a_single_receipt_is_stored_done_at_once(tmp_path: Path) -> None:
    """Nothing waiting behind it: no combined commit, nothing owed."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        calls = _record_group_commits(rig)
        await _submit(rig, ["alone"])
        await _drain(rig, ["alone"])
        assert calls == []
        assert rig.worker._owed is None


async def test_a_register_command_stores_the_owed_done_first(tmp_path: Path) -> None:
    """A shift command between two receipts finds the first one done (reports count it)."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _submit(rig, ["first", "second"])
        await rig.worker._step(is_started=True)  # prints "first"; "second" waits
        assert rig.worker._owed is not None
        first = rig.outbox.get("first")
        assert first is not None
        assert first.state is RowState.PRINTING  # its done waits for the next intent

        seen: list[RowState] = []

        async def command(_service: object) -> None:
            row = await asyncio.to_thread(rig.outbox.get, "first")
            assert row is not None
            seen.append(row.state)

        await rig.worker.execute(command)
        assert seen == [RowState.DONE]
        assert rig.worker._owed is None
        await _drain(rig, ["first", "second"])


async def test_a_late_payment_in_a_burst_keeps_its_correction_in_the_combined_intent(
    tmp_path: Path,
) -> None:
    """A late payment between two plain receipts: its intent, stored with the done before it,
    carries the correction decided on the register's clock; it prints FD type 31 once."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _submit(rig, ["warm"])
        await _drain(rig, ["warm"])
        corrections: list[tuple[str, Correction | None]] = []
        real = rig.outbox.mark_done_and_printing

        def recording(done_id: str, **kwargs: Any) -> Any:
            row = real(done_id, **kwargs)
            corrections.append((kwargs["id"], kwargs.get("correction")))
            return row

        rig.outbox.mark_done_and_printing = recording  # type: ignore[method-assign]
        paid_at = datetime.now(UTC) - timedelta(days=1)
        late = receipt("late-1", 15_000, pay="card") | {"paid_at": paid_at.isoformat()}
        for body in (receipt("c-0", 15_000), late, receipt("c-2", 15_002)):
            assert (await rig.client.post("/api/v1/receipts", json=body)).status == 202
        await _drain(rig, ["c-0", "late-1", "c-2"])

        settled_on = paid_at.astimezone(MSK).date()
        expected = Correction(type=CorrectionType.SELF, settled_on=settled_on)
        assert corrections == [("late-1", expected), ("c-2", None)]
        row = rig.outbox.get("late-1")
        assert row is not None
        assert row.fiscal is not None
        assert row.receipt is not None
        assert (row.fiscal.type, row.receipt.correction) == ("correction", expected)
        by_mark = {d.tags.mark.value: d for d in rig.register.device.state.documents if d.tags.mark}
        assert by_mark["late-1"].type is DocType.CORRECTION
        assert (by_mark["c-0"].type, by_mark["c-2"].type) == (DocType.RECEIPT, DocType.RECEIPT)
        plain = rig.outbox.get("c-2")
        assert plain is not None
        assert plain.fiscal is not None
        assert plain.fiscal.type == "receipt"


def test_the_combined_commit_stores_both_or_neither(tmp_path: Path) -> None:
    """When the next row cannot take its intent, the done is rolled back with it."""
    outbox = Outbox(tmp_path / "outbox.db", clock=host_now)
    try:
        for request_id in ("a", "b"):
            sale = goods_receipt((15_000, VatRate.NONE))
            outbox.submit_receipt(request_id, sale, f"fp-{request_id}")
        outbox.mark_printing("a", fn_serial="FN", last_fd=1)
        outbox.mark_printing("b", fn_serial="FN", last_fd=1)  # "b" is no longer pending
        record = FiscalRecord(
            fn="FN",
            fd=2,
            fp=1,
            shift=1,
            number=1,
            issued_at=host_now(),
            total=Kopecks(15_000),
            change=Kopecks(0),
            mark="a",
        )
        with pytest.raises(IllegalTransition):
            outbox.mark_done_and_printing("a", fiscal=record, id="b", fn_serial="FN", last_fd=2)
        row = outbox.get("a")
        assert row is not None
        assert row.state is RowState.PRINTING
        assert row.fiscal is None
    finally:
        outbox.close()
