"""A refund that names its sale (``refund_of``, v1.1): linked when the sale is done here.

On a register that links refunds to their sale's document (SmartOne's ``parentDocID``) the
refund carries the sale's document id; a refund naming a sale this agent has not issued is
refused with what to do, and nothing is stored for it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.domain.receipt import VatRate
from agent.outbox.codec import receipt_from_json, receipt_to_json
from agent.outbox.states import RowState
from tests.support.agent_rig import AgentRig, running_agent, until
from tests.support.payloads import receipt
from tests.support.receipts import goods_receipt

COFFEE = 15000


def _refund(request_id: str, sale_id: str | None) -> dict[str, Any]:
    body = receipt(request_id, COFFEE) | {"kind": "refund"}
    if sale_id is not None:
        body["refund_of"] = sale_id
    return body


async def _post(rig: AgentRig, body: dict[str, Any]) -> tuple[int, Any]:
    response = await rig.client.post("/api/v1/receipts", json=body)
    return response.status, await response.json()


def _done(rig: AgentRig, request_id: str) -> bool:
    row = rig.outbox.get(request_id)
    return row is not None and row.state is RowState.DONE


async def test_refund_of_a_done_sale_is_taken_and_prints(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as rig:
        status, _ = await _post(rig, receipt("sale-1", COFFEE))
        assert status == 202
        await until(lambda: _done(rig, "sale-1"))
        status, _ = await _post(rig, _refund("refund-1", "sale-1"))
        assert status == 202
        await until(lambda: _done(rig, "refund-1"))
        row = rig.outbox.get("refund-1")
        assert row is not None
        assert row.receipt is not None
        sale = rig.outbox.get("sale-1")
        assert sale is not None
        assert sale.fiscal is not None
        # A Russian FN names documents by FN and FD: the sale has no register doc_id to link.
        assert row.receipt.parent_doc_id == sale.fiscal.doc_id is None


async def test_refund_of_an_unknown_or_unfinished_sale_is_refused(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as rig:
        status, body = await _post(rig, _refund("refund-2", "no-such-sale"))
        assert status == 422, body
        assert body["error"]["code"] == "refund_of_unknown"
        assert body["error"]["field"] == "refund_of"
        assert "without refund_of" in body["error"]["message"]
        assert rig.outbox.get("refund-2") is None  # nothing stored: the CRM decides
        status, _ = await _post(rig, receipt("sale-3", COFFEE))
        await until(lambda: _done(rig, "sale-3"))
        status, body = await _post(rig, _refund("refund-3", "refund-of-nothing"))
        assert body["error"]["code"] == "refund_of_unknown"
        status, _ = await _post(rig, _refund("refund-4", None))  # unlinked: taken
        assert status == 202
        await until(lambda: _done(rig, "refund-4"))
        status, body = await _post(rig, _refund("refund-5", "refund-4"))  # a refund, not a sale
        assert body["error"]["code"] == "refund_of_unknown"


async def test_refund_of_on_a_sale_is_refused(tmp_path: Path) -> None:
    async with running_agent(tmp_path) as rig:
        status, body = await _post(rig, receipt("sale-6", COFFEE) | {"refund_of": "sale-0"})
        assert status == 422, body
        assert body["error"]["code"] == "refund_of_on_a_sale"


def test_the_outbox_keeps_the_sales_document_id() -> None:
    """Stored only when set, so rows written before the field decode as they did."""
    plain = goods_receipt((COFFEE, VatRate.VAT22))
    linked = replace(plain, parent_doc_id="Ab3dE5fG7hJk")
    assert "parent_doc_id" not in receipt_to_json(plain)
    assert receipt_from_json(receipt_to_json(linked)).parent_doc_id == "Ab3dE5fG7hJk"
    assert receipt_from_json(receipt_to_json(plain)).parent_doc_id is None
