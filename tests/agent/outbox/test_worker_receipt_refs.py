"""What the worker tells the driver of a receipt: its ref, and settle before recovery reads.

The driver gets ``ReceiptRef(id, mark, attempt)`` with the row's id as its mark; the attempt
is the row's try, numbered anew only after recovery found the try before not issued. A row
left doubtful is settled (``FiscalDriver.settle``) before its documents are read back, inside
the register lock. The real Shtrih driver drives the simulator's device in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.domain.receipt import Receipt
from agent.drivers.errors import AnswerTimeout
from agent.drivers.interface import IssuedReceipt, ReceiptRef
from agent.outbox.states import RowState
from tests.support.agent_rig import FAST_WORKER, AgentRig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, idle check off, on a register with an open shift."""
    async with running_agent(
        tmp_path, params=replace(FAST_WORKER, idle_tick_s=3600), wait_ready=True
    ) as made:
        yield made


def _done(rig: AgentRig, request_id: str) -> Any:
    row = rig.outbox.get(request_id)
    return row if row is not None and row.state is RowState.DONE else None


async def test_a_receipt_goes_to_the_driver_as_its_first_try(
    rig: AgentRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One receipt, no doubt: register once with (id, id, 1); nothing to settle."""
    driver = rig.register.driver
    calls: list[tuple[str, ReceiptRef]] = []
    original_register, original_settle = driver.register, driver.settle

    async def register(receipt_: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        calls.append(("register", ref))
        return await original_register(receipt_, ref=ref)

    async def settle(ref: ReceiptRef) -> None:
        calls.append(("settle", ref))
        await original_settle(ref)

    monkeypatch.setattr(driver, "register", register)
    monkeypatch.setattr(driver, "settle", settle)
    await rig.client.post("/api/v1/receipts", json=receipt("ref-1", 15000))
    row = await until(lambda: _done(rig, "ref-1"))
    assert calls == [("register", ReceiptRef(id="ref-1", mark="ref-1", attempt=1))]
    assert row.fiscal.mark == "ref-1"


async def test_a_doubtful_try_is_settled_before_recovery_and_the_reprint_is_a_new_try(
    rig: AgentRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first try's answer never comes (nothing ran): settle(try 1), then try 2 prints.

    The failure leaves the row printing; recovery settles try 1 before it reads the FN, finds
    nothing with the mark, releases the row, and the next intent is try 2: a protocol that
    keys its device-side request on (id, attempt) sends a new request only now.
    """
    driver = rig.register.driver
    calls: list[tuple[str, ReceiptRef]] = []
    original_register, original_settle = driver.register, driver.settle
    original_read_ledger = driver.read_ledger

    async def register(receipt_: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        calls.append(("register", ref))
        if ref.attempt == 1:
            raise AnswerTimeout(0xFF46, 1.0)  # nothing ran: the answer never came
        return await original_register(receipt_, ref=ref)

    async def settle(ref: ReceiptRef) -> None:
        calls.append(("settle", ref))
        await original_settle(ref)

    async def read_ledger() -> Any:
        calls.append(("read_ledger", ReceiptRef(id="-", mark="-", attempt=1)))
        return await original_read_ledger()

    monkeypatch.setattr(driver, "register", register)
    monkeypatch.setattr(driver, "settle", settle)
    monkeypatch.setattr(driver, "read_ledger", read_ledger)
    await rig.client.post("/api/v1/receipts", json=receipt("ref-2", 15000))
    row = await until(lambda: _done(rig, "ref-2"))
    refs = [(name, ref.attempt) for name, ref in calls if name != "read_ledger"]
    assert refs == [("register", 1), ("settle", 1), ("register", 2)]
    settle_at = next(i for i, (name, _) in enumerate(calls) if name == "settle")
    assert calls[settle_at + 1][0] == "read_ledger", "settled before the FN is read back"
    assert {ref.id for _, ref in calls if ref.id != "-"} == {"ref-2"}
    assert (row.print_attempt, row.fiscal.mark) == (2, "ref-2")
