"""A person settles an unknown row: POST /api/v1/receipts/{id}/resolve, checked against the FN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.domain.money import Kopecks
from agent.outbox.orders import FiscalRecord
from agent.outbox.states import RowState
from agent.outbox.store import OutboxRow
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.payloads import receipt
from tests.support.receipts import receipt_ref
from tests.support.shtrih_rig import FN_SERIAL

COFFEE = 15000


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose register has an open shift."""
    async with agent_rig(tmp_path) as made:
        await made.service.connect()
        await made.service.open_shift()
        yield made


async def _submit(rig: AgentRig, request_id: str, kopecks: int = COFFEE) -> OutboxRow:
    response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, kopecks))
    assert response.status == 202, await response.text()
    row = rig.outbox.get(request_id)
    assert row is not None
    return row


async def _unknown(rig: AgentRig, request_id: str, *, print_it: bool) -> tuple[OutboxRow, int]:
    """A row the agent lost track of; ``print_it``: its receipt is on the FN (returns its FD)."""
    row = await _submit(rig, request_id)
    assert row.receipt is not None
    ledger = await rig.register.driver.read_ledger()
    rig.outbox.mark_printing(request_id, fn_serial=ledger.fn_serial, last_fd=ledger.last_fd)
    fd = 0
    if print_it:
        fd = (await rig.register.driver.register(row.receipt, ref=receipt_ref(request_id))).fd
    rig.outbox.mark_unknown(request_id, reason="the FN changed while printing")
    current = rig.outbox.get(request_id)
    assert current is not None
    assert current.state is RowState.UNKNOWN
    return current, fd


async def _resolve(rig: AgentRig, request_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await rig.client.post(f"/api/v1/receipts/{request_id}/resolve", json=body)
    return response.status, await response.json()


async def test_settle_issued_records_the_document_with_who_and_when(rig: AgentRig) -> None:
    """issued with the FD of the row's receipt: done, with FD, FP, mark and the settlement."""
    _, fd = await _unknown(rig, "crm-1", print_it=True)
    status, body = await _resolve(
        rig, "crm-1", {"as": "issued", "fd": fd, "by": "anna", "reason": "seen on the tape"}
    )
    assert status == 200, body
    assert body["status"] == "done"
    assert body["fiscal"]["fd"] == fd
    assert body["fiscal"]["mark"] == "crm-1"
    assert body["fiscal"]["total"] == "150.00"
    assert body["fiscal"]["vat"] == {"vat22": "27.05"}  # 150.00 x 22/122, half up
    row = rig.outbox.get("crm-1")
    assert row is not None
    assert row.settlement is not None
    assert (row.settlement.settled_as, row.settlement.by) == ("issued", "anna")
    assert row.settlement.reason == "seen on the tape"


async def test_settle_not_issued_prints_it_again(rig: AgentRig) -> None:
    """not_issued: the row is pending again and the worker prints it, once, with its mark."""
    await _unknown(rig, "crm-1", print_it=False)
    status, body = await _resolve(rig, "crm-1", {"as": "not_issued", "by": "anna"})
    assert (status, body["status"]) == (200, "pending")
    row = rig.outbox.get("crm-1")
    assert row is not None
    assert row.settlement is not None
    assert row.settlement.settled_as == "not_issued"
    await rig.worker._process(row)
    done = rig.outbox.get("crm-1")
    assert done is not None
    assert done.state is RowState.DONE
    marks = [d.tags.mark.value for d in rig.register.device.state.documents if d.tags.mark]
    assert marks == ["crm-1"]


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [
        pytest.param("no_such_fd", "fd_not_found", 422, id="fd-not-found"),
        pytest.param("shift_document", "fd_not_a_receipt", 422, id="not-a-receipt"),
        pytest.param("other_mark", "fd_of_another_request", 422, id="another-request"),
        pytest.param("other_total", "fd_content_differs", 422, id="content-differs"),
        pytest.param("no_fd", "invalid_request", 422, id="issued-without-fd"),
    ],
)
async def test_settle_issued_refuses_a_document_that_is_not_the_rows(
    rig: AgentRig, setup: str, code: str, status: int
) -> None:
    """The FD must exist, be a receipt, carry no other mark, match, and be no other row's."""
    await _unknown(rig, "crm-1", print_it=False)
    body: dict[str, Any] = {"as": "issued", "by": "anna"}
    if setup == "no_such_fd":
        body["fd"] = 9999
    elif setup == "shift_document":
        body["fd"] = 1  # the open-shift report
    elif setup == "other_mark":
        other = await _submit(rig, "crm-2")
        assert other.receipt is not None
        body["fd"] = (
            await rig.register.driver.register(other.receipt, ref=receipt_ref("crm-2"))
        ).fd
    elif setup == "other_total":
        other = await _submit(rig, "crm-3", kopecks=COFFEE + 1)
        assert other.receipt is not None
        body["fd"] = (
            await rig.register.driver.register(other.receipt, ref=receipt_ref("crm-1"))
        ).fd
    answer_status, answer = await _resolve(rig, "crm-1", body)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    row = rig.outbox.get("crm-1")
    assert row is not None
    assert row.state is RowState.UNKNOWN, "a refused settlement changes nothing"


async def test_settle_issued_refuses_an_fd_that_is_another_rows_result(rig: AgentRig) -> None:
    """A document already recorded as another row's result is refused as fd_taken."""
    _, fd = await _unknown(rig, "crm-1", print_it=True)
    other = await _submit(rig, "crm-2")
    rig.outbox.mark_printing("crm-2", fn_serial=FN_SERIAL, last_fd=0)
    record = FiscalRecord(
        fn=FN_SERIAL,
        fd=fd,
        fp=1,
        shift=1,
        number=1,
        issued_at=other.accepted_at,
        total=Kopecks(COFFEE),
        change=Kopecks(0),
    )
    rig.outbox.mark_done("crm-2", fiscal=record)
    status, answer = await _resolve(rig, "crm-1", {"as": "issued", "fd": fd})
    assert (status, answer["error"]["code"]) == (422, "fd_taken"), answer
    row = rig.outbox.get("crm-1")
    assert row is not None
    assert row.state is RowState.UNKNOWN


async def test_settle_refuses_a_row_that_is_not_unknown(rig: AgentRig) -> None:
    """Only an unknown row is settled by hand: a pending one answers 409 not_unknown."""
    await _submit(rig, "crm-1")
    status, body = await _resolve(rig, "crm-1", {"as": "not_issued"})
    assert (status, body["error"]["code"]) == (409, "not_unknown")


async def test_settle_an_unknown_id_is_404(rig: AgentRig) -> None:
    """An id the agent never received answers 404 not_found."""
    status, body = await _resolve(rig, "nobody", {"as": "not_issued"})
    assert (status, body["error"]["code"]) == (404, "not_found")


async def test_settle_bad_body_names_the_field(rig: AgentRig) -> None:
    """A body that is not a settlement answers 422 naming the field."""
    await _unknown(rig, "crm-1", print_it=False)
    status, body = await _resolve(rig, "crm-1", {"as": "maybe"})
    assert (status, body["error"]["field"]) == (422, "as")
