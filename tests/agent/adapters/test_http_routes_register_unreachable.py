"""The local HTTP API when the register cannot be reached: 503 for shift commands, 202 for cash.

A shift command runs on the register while the client waits, so an unreachable register is a
503 with the worker's error code; a cash command is committed first, so the client gets 202
``pending`` once the wait for its outcome is over, and the movement goes on later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agent.adapters.http import routes
from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from tests.support.agent_rig import api_without_register
from tests.support.processes import free_port


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Outbox]]:
    """The app over a real outbox; the register's TCP port has nobody listening."""
    async with api_without_register(
        tmp_path, register_url=f"socket://127.0.0.1:{free_port()}"
    ) as made:
        yield made


@pytest.mark.parametrize("action", ["open", "close", "x_report"])
async def test_http_shift_command_with_the_register_unreachable_is_503_link_down(
    api: tuple[TestClient[Any, Any], Outbox], action: str
) -> None:
    """Nothing listens on the register's port: 503 link_down, not a 500 or a hang."""
    client, _ = api
    response = await client.post("/api/v1/shift", json={"action": action})
    assert response.status == 503
    error = (await response.json())["error"]
    assert error["code"] == "link_down"
    assert "127.0.0.1" in error["message"]


async def test_http_cash_not_final_within_the_wait_is_202_pending_and_kept(
    api: tuple[TestClient[Any, Any], Outbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker takes it: 202 pending after the wait; the row is committed and still pending."""
    monkeypatch.setattr(routes, "CASH_WAIT_S", 0.3)
    client, outbox = api
    body = {"id": "cash-1", "direction": "in", "amount": "500.00"}
    response = await client.post("/api/v1/cash", json=body)
    assert response.status == 202
    assert await response.json() == {"id": "cash-1", "status": "pending"}
    row = outbox.get("cash-1")
    assert row is not None
    assert row.state is RowState.PENDING
    again = await client.post("/api/v1/cash", json=body)
    assert again.status == 202
    assert outbox.stats().pending == 1, "the resend made a second row"


async def test_http_health_route_answers_the_health_model(
    api: tuple[TestClient[Any, Any], Outbox],
) -> None:
    """GET /health serves what the composition root's health callable returns, as JSON."""
    client, _ = api
    response = await client.get("/api/v1/health")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"state": "online"}
