"""The close-shift check against the real agent process and the register simulator: the agent
takes the cloud's cmd/shift x_report like any other, prints the X report, and answers on
evt/shift with the request's id; the cloud's ingest stores the CRM's receipts and the agent's
results on the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cloud.store import CloudStore
from tests.cloud.api.conftest import CRM, bearer
from tests.cloud.api.seed import request
from tests.cloud.api.test_shift_check import CHECK, PREFIX, cloud
from tests.cloud.ingest.conftest import eventually
from tests.support.mqtt_client import PlainClient
from tests.support.payloads import receipt
from tests.support.processes import http

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
async def live_store(tmp_path: Path) -> AsyncIterator[CloudStore]:
    """A store on the real clock: the simulator's shift opens now."""
    async with await CloudStore.open(f"sqlite:///{tmp_path / 'cloud.db'}") as opened:
        yield opened


async def test_the_real_agent_answers_the_check(
    broker: Any, start_sim: Any, start_agent: Any, live_store: CloudStore
) -> None:
    store = live_store
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url}})
    crm = PlainClient(broker.url, "crm", subscribe=(PREFIX + "evt/receipt",)).connect()
    try:
        async with cloud(broker.url, store, timeout_s=30) as client:
            status, _ = await asyncio.to_thread(
                http, "POST", f"{agent.base}/shift", {"action": "open"}
            )
            assert status == 200
            for request_id, kopecks, pay in (("p1", 15000, "cash"), ("p2", 9999, "card")):
                await asyncio.to_thread(
                    crm.publish, PREFIX + "cmd/receipt", receipt(request_id, kopecks, pay=pay)
                )

            async def printed() -> bool:
                results = await store.results("club-1", "desk-1")
                return sum(rec.result.status == "done" for rec in results) == 2

            await eventually(printed, timeout_s=60, what="both receipts printed and stored")

            resp = await client.get(CHECK, headers=bearer(CRM))
            body = await resp.json()
            assert (resp.status, body["result"]) == (200, "match"), body
            assert body["rows"] == []
            assert body["difference"]["total"] == "0.00"

            # A payment the CRM recorded for this register that never reached it.
            await store.record_requests("club-1", "desk-1", [request("p3", 5050)])
            resp = await client.get(CHECK, headers=bearer(CRM))
            body = await resp.json()
            assert body["result"] == "discrepancy", body
            assert [(row["id"], row["status"]) for row in body["rows"]] == [("p3", "crm_only")]
            assert body["difference"]["cash"] == "50.50"
    finally:
        crm.close()
    x_reports = [
        rec.report
        for rec in await store.shift_reports("club-1", "desk-1")
        if rec.report.kind == "x"
    ]
    assert x_reports, "the agent's X report was stored by the ingest"
