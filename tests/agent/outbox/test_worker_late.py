"""Late payments through the worker: the decision, the intent, the mark and recovery.

The real Shtrih driver drives the simulator's device in-process (tests/support/agent_rig.py).
A payment whose ``paid_at`` lies before the open shift was opened is printed as a correction
receipt (FF35 ... FF45 with 1173 and 1174/1178); the row records the correction with its
intent and the result says ``type: correction``. A correction the register issued but whose
answer was lost is found by its mark and recorded, never printed twice. A driver that cannot
issue corrections fails the row for a person, and nothing reaches the FN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.domain.receipt import Correction, CorrectionType, Receipt
from agent.drivers.errors import CorrectionNotSupported
from agent.drivers.interface import IssuedReceipt, ReceiptRef
from agent.outbox.states import RowState
from firmware_sim.state import MSK, DocType
from tests.support.agent_rig import FAST_WORKER, AgentRig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

CLOSE = 0xFF45
RECEIPT_NOT_OPEN = 0x55  # a refusal the worker retries


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, idle check off, on a register with an open shift."""
    async with running_agent(
        tmp_path, params=replace(FAST_WORKER, idle_tick_s=3600), wait_ready=True
    ) as made:
        yield made


def _final(rig: AgentRig, request_id: str) -> Any:
    row = rig.outbox.get(request_id)
    return (
        row if row is not None and row.state not in {RowState.PENDING, RowState.PRINTING} else None
    )


def _marked(rig: AgentRig, mark: str) -> list[Any]:
    return [
        d
        for d in rig.register.device.state.documents
        if d.tags.mark is not None and d.tags.mark.value == mark
    ]


def _late(request_id: str, paid_at: datetime) -> dict[str, Any]:
    return receipt(request_id, 15000, pay="card") | {"paid_at": paid_at.isoformat()}


async def test_a_payment_before_the_shift_is_printed_as_a_correction(rig: AgentRig) -> None:
    """paid_at a day before the shift opened: FD type 31, 1173 = 0, 1178 = that date."""
    paid_at = datetime.now(UTC) - timedelta(days=1)
    response = await rig.client.post("/api/v1/receipts", json=_late("late-1", paid_at))
    assert response.status == 202
    row = await until(lambda: _final(rig, "late-1"))
    assert row.state is RowState.DONE, row
    assert row.fiscal is not None
    assert row.fiscal.type == "correction"
    paid_on = paid_at.astimezone(MSK).date()
    assert row.receipt.correction == Correction(type=CorrectionType.SELF, settled_on=paid_on)
    assert row.receipt.paid_at == paid_at
    (doc,) = _marked(rig, "late-1")
    assert doc.type is DocType.CORRECTION
    assert doc.fd == row.fiscal.fd
    assert (doc.tags.correction_type, doc.tags.correction_date) == (0, paid_on)
    result = await (await rig.client.get("/api/v1/receipts/late-1")).json()
    assert result["fiscal"]["type"] == "correction"
    # The driver reads it back whole: a correction with its basis.
    document = await rig.service.read_document(row.fiscal.fd)
    assert document.correction == row.receipt.correction
    assert document.mark == "late-1"


async def test_a_payment_in_the_open_shift_is_an_ordinary_receipt(rig: AgentRig) -> None:
    """paid_at now, in the open shift: an ordinary receipt; no paid_at at all: the same."""
    now = datetime.now(UTC)
    await rig.client.post("/api/v1/receipts", json=_late("now-1", now))
    await rig.client.post("/api/v1/receipts", json=receipt("plain-1", 15000))
    for request_id in ("now-1", "plain-1"):
        row = await until(lambda request_id=request_id: _final(rig, request_id))
        assert row.state is RowState.DONE
        assert row.fiscal.type == "receipt"
        assert row.receipt.correction is None
        (doc,) = _marked(rig, request_id)
        assert doc.type is DocType.RECEIPT


async def test_a_correction_whose_answer_was_lost_is_found_by_its_mark(rig: AgentRig) -> None:
    """FF45 ran, its answer lied: recovery reads it back, records it as the correction."""

    def refuse_after_running(payload: bytes) -> bytes | None:
        if rig.outbox.get("late-2") is None:
            return None
        del rig.register.intercept[CLOSE]
        rig.register.device.handle(payload, datetime.now(UTC))
        return payload[:2] + bytes([RECEIPT_NOT_OPEN])

    rig.register.intercept[CLOSE] = refuse_after_running
    paid_at = datetime.now(UTC) - timedelta(hours=30)
    await rig.client.post("/api/v1/receipts", json=_late("late-2", paid_at))
    row = await until(lambda: _final(rig, "late-2"))
    assert row.state is RowState.DONE, row
    assert row.fiscal.type == "correction"
    (doc,) = _marked(rig, "late-2")
    assert doc.type is DocType.CORRECTION
    assert row.fiscal.fd == doc.fd, "recorded the correction the FN holds, printed nothing else"


async def test_a_driver_without_corrections_fails_the_row_for_a_person(
    rig: AgentRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver refuses before sending: failed, correction_unsupported; the FN holds none."""
    driver = rig.register.driver
    original = driver.register

    async def without_corrections(receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        if receipt.correction is not None:
            raise CorrectionNotSupported("test")
        return await original(receipt, ref=ref)

    monkeypatch.setattr(driver, "register", without_corrections)
    paid_at = datetime.now(UTC) - timedelta(days=2)
    await rig.client.post("/api/v1/receipts", json=_late("late-3", paid_at))
    row = await until(lambda: _final(rig, "late-3"))
    assert (row.state, row.error_code) == (RowState.FAILED, "correction_unsupported")
    assert "late" in (row.error_message or "")
    assert _marked(rig, "late-3") == []
    # The line moves on: an ordinary payment after it is printed.
    await rig.client.post("/api/v1/receipts", json=receipt("plain-2", 15000))
    after = await until(lambda: _final(rig, "plain-2"))
    assert after.state is RowState.DONE
