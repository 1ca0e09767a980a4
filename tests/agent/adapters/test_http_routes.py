"""The local HTTP API over a real SQLite outbox: commit before 202, idempotency, 4xx that name the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agent.outbox.store import Outbox
from tests.support.agent_rig import api_without_register, host_now

RECEIPT: dict[str, Any] = {
    "id": "crm-1",
    "kind": "sale",
    "category": "goods",
    "items": [{"name": "Кофе", "qty": "2", "price": "150.00", "vat": "vat22"}],
    "payments": {"cash": "500.00"},
}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Outbox]]:
    """The app with a real outbox; the register behind the worker is never reached."""
    async with api_without_register(
        tmp_path, register_url="socket://127.0.0.1:1", max_pending=3
    ) as made:
        yield made


async def test_http_receipt_is_committed_before_202(
    api: tuple[TestClient[Any, Any], Outbox], tmp_path: Path
) -> None:
    """202 means the row is on disk: a second connection to the file sees it."""
    client, _ = api
    response = await client.post("/api/v1/receipts", json=RECEIPT)
    assert response.status == 202
    assert await response.json() == {"id": "crm-1", "status": "pending"}
    other = Outbox(tmp_path / "agent.sqlite3", clock=host_now)
    try:
        row = other.get("crm-1")
        assert row is not None
        assert row.receipt is not None
        assert row.receipt.total == 30000
    finally:
        other.close()


async def test_http_same_id_same_content_returns_the_stored_result(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """A resend (even with "500" for "500.00") answers 200 with the stored result."""
    client, _ = api
    assert (await client.post("/api/v1/receipts", json=RECEIPT)).status == 202
    resend = {**RECEIPT, "payments": {"cash": "500"}}
    response = await client.post("/api/v1/receipts", json=resend)
    assert response.status == 200
    assert (await response.json())["status"] == "pending"


async def test_http_same_id_other_content_is_id_conflict(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """A reused id with other content is 409 id_conflict naming the id."""
    client, _ = api
    assert (await client.post("/api/v1/receipts", json=RECEIPT)).status == 202
    response = await client.post(
        "/api/v1/receipts", json={**RECEIPT, "payments": {"cash": "300.00"}}
    )
    assert response.status == 409
    assert (await response.json())["error"] == {
        "code": "id_conflict",
        "message": "id crm-1 is known with other content; a new payment needs a new id",
        "field": "id",
    }


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(
            {**RECEIPT, "items": [{**RECEIPT["items"][0], "price": 150.0}]},
            422,
            "invalid_request",
            "items.0.price",
            id="float-money",
        ),
        pytest.param(
            {**RECEIPT, "kind": "gift"}, 422, "invalid_request", "kind", id="unknown-kind"
        ),
        pytest.param(
            {**RECEIPT, "cusomer": {}}, 422, "invalid_request", "cusomer", id="typo-field"
        ),
        pytest.param(
            {k: v for k, v in RECEIPT.items() if k != "items"},
            422,
            "invalid_request",
            "items",
            id="missing-items",
        ),
        pytest.param(
            {**RECEIPT, "payments": {"cash": "100.00"}},
            422,
            "payments_below_total",
            "payments",
            id="underpaid",
        ),
        pytest.param(
            {**RECEIPT, "payments": {"card": "400.00"}},
            422,
            "non_cash_above_total",
            "payments",
            id="card-over-total",
        ),
        pytest.param(
            {**RECEIPT, "category": "top_up"},
            422,
            "vat_rate_not_allowed",
            "items.0.vat",
            id="advance-flat-vat",
        ),
        pytest.param(
            {**RECEIPT, "customer": {"email": "not-an-email"}},
            422,
            "bad_customer_contact",
            "customer.email",
            id="bad-email",
        ),
        pytest.param(
            {**RECEIPT, "items": [{**RECEIPT["items"][0], "name": "☕ coffee"}]},
            422,
            "bad_item_name",
            "items.0.name",
            id="not-cp1251",
        ),
        pytest.param({**RECEIPT, "id": ""}, 422, "invalid_request", "id", id="empty-id"),
    ],
)
async def test_http_bad_receipt_is_4xx_naming_the_field(
    api: tuple[TestClient[Any, Any], Outbox],
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    """Bad input is refused with the code and the offending field; nothing is stored."""
    client, outbox = api
    response = await client.post("/api/v1/receipts", json=body)
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert outbox.stats().pending == 0


async def test_http_body_that_is_not_json_is_400(api: tuple[TestClient[Any, Any], Outbox]) -> None:
    """Garbage in the body is a 400 invalid_json, not a crash."""
    client, _ = api
    response = await client.post(
        "/api/v1/receipts", data=b"\xff{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"


async def test_http_full_outbox_refuses_with_503(api: tuple[TestClient[Any, Any], Outbox]) -> None:
    """Past max_pending new requests are refused (nothing dropped), a known id still answers."""
    client, _ = api
    for i in range(3):
        assert (
            await client.post("/api/v1/receipts", json={**RECEIPT, "id": f"crm-{i}"})
        ).status == 202
    response = await client.post("/api/v1/receipts", json={**RECEIPT, "id": "crm-9"})
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "outbox_full"
    assert (await client.post("/api/v1/receipts", json={**RECEIPT, "id": "crm-0"})).status == 200


async def test_http_get_receipt_unknown_is_404(api: tuple[TestClient[Any, Any], Outbox]) -> None:
    """An unknown id is 404 with the error body."""
    client, _ = api
    response = await client.get("/api/v1/receipts/nope")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_http_outbox_lists_newest_first_and_filters(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """GET /outbox lists rows newest first; ?state= filters; a bad state is 400 naming it."""
    client, _ = api
    for i in range(3):
        await client.post("/api/v1/receipts", json={**RECEIPT, "id": f"crm-{i}"})
    rows = await (await client.get("/api/v1/outbox")).json()
    assert [row["id"] for row in rows] == ["crm-2", "crm-1", "crm-0"]
    assert {row["state"] for row in rows} == {"pending"}
    assert await (await client.get("/api/v1/outbox?state=done")).json() == []
    response = await client.get("/api/v1/outbox?state=lost")
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "state"


async def test_http_shift_with_bad_action_is_422(api: tuple[TestClient[Any, Any], Outbox]) -> None:
    """An unknown shift action is refused before the register is touched."""
    client, _ = api
    response = await client.post("/api/v1/shift", json={"action": "reopen"})
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "action"


async def test_http_shift_sync_tape_is_refused_as_an_mqtt_command(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """sync_tape (v1.1) answers documents on evt/document, not a ShiftReport: not over HTTP."""
    client, _ = api
    response = await client.post("/api/v1/shift", json={"action": "sync_tape"})
    assert response.status == 422
    error = (await response.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_request", "action")


async def test_http_unknown_route_is_404_with_error_body(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """Even a wrong URL answers with the contract's error body."""
    client, _ = api
    response = await client.get("/api/v2/nothing")
    assert response.status == 404
    assert "error" in await response.json()
