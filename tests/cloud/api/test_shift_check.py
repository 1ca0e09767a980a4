"""The close-shift check over a real broker: the API asks for an X report on cmd/shift, a fake
agent (a plain paho client) answers on evt/shift with the request's id, the ingest stores it
and wakes the check, which reconciles the open shift against the report's counters.

The shift (tests.cloud.api.seed, open, not closed): r1 sale 150.00 cash, r2 sale 99.99 card,
r3 refund 10.01 cash, all printed. The fake agent's X report counts exactly those.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiohttp.test_utils import TestClient

from cloud.ingest import Ingest, IngestSettings, ingest_link_settings
from cloud.ingest.waiters import ShiftWaiters
from cloud.store import CloudStore
from mqtt_link import LinkSettings, MqttLink
from tests.cloud.api.conftest import AUTH, CRM, SUPPORT, bearer, serve
from tests.cloud.api.seed import AGENT, CLUB, ZERO, done, report, request
from tests.support.mqtt_client import PlainClient

CHECK = f"/api/v1/clubs/{CLUB}/agents/{AGENT}/shifts/current/check"
PREFIX = f"fiscal/v1/{CLUB}/{AGENT}/"
X_SALES = {"cash": "150.00", "card": "99.99", "prepaid": "0.00", "count": 2}
X_REFUNDS = {"cash": "10.01", "card": "0.00", "prepaid": "0.00", "count": 1}


class LinkPublisher:
    """The API's Publisher over the ingest's link, as cloud.app wires it."""

    def __init__(self, link: MqttLink) -> None:
        self.link = link

    async def publish(self, topic: str, payload: bytes) -> None:
        await self.link.publish(topic, payload, qos=1)


class FakeAgent:
    """Answers each cmd/shift x_report: an X report with its id, or a failed outcome."""

    def __init__(self, url: str, *, fail: bool = False) -> None:
        self.commands: list[dict[str, Any]] = []
        self.fail = fail
        self.plain = PlainClient(
            url, f"agent-{uuid.uuid4().hex[:8]}", subscribe=(PREFIX + "cmd/shift",)
        )
        self.plain.client.on_message = self._answer

    def _answer(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        command = json.loads(msg.payload)
        self.commands.append(command)
        if self.fail:
            outcome = {
                "id": command["id"],
                "status": "failed",
                "error": {"code": "register_unreachable", "message": "no answer on the line"},
            }
            client.publish(PREFIX + "evt/command", json.dumps(outcome), qos=1)
            return
        body = report("x", X_SALES, X_REFUNDS).model_dump(mode="json", exclude_none=True)
        body["request_id"] = command["id"]
        client.publish(PREFIX + "evt/shift", json.dumps(body), qos=1)


@pytest.fixture
def fake_agent(broker: Any) -> Iterator[FakeAgent]:
    agent = FakeAgent(broker.url)
    agent.plain.connect()
    yield agent
    agent.plain.close()


async def seed_open_shift(store: CloudStore) -> None:
    await store.record_shift_reports(CLUB, AGENT, [report("open", ZERO, ZERO)])
    await store.record_requests(
        CLUB,
        AGENT,
        [
            request("r1", 15000, extra_cash=5000),
            request("r2", 9999, pay="card"),
            request("r3", 1001, kind="refund"),
        ],
    )
    await store.record_results(
        CLUB, AGENT, [done("r1", 101, 15000), done("r2", 102, 9999), done("r3", 103, 1001)]
    )


@contextlib.asynccontextmanager
async def cloud(
    url: str, store: CloudStore, *, timeout_s: float = 10.0, wake: bool = True
) -> AsyncIterator[TestClient[Any, Any]]:
    """The ingest (waking the waiters unless ``wake`` is False) and the API over one link."""
    link = MqttLink(
        ingest_link_settings(
            LinkSettings(url=url, client_id=f"cloud-{uuid.uuid4().hex[:8]}", backoff_min_s=0.1)
        )
    )
    waiters = ShiftWaiters()
    ingest = Ingest(
        link, store, IngestSettings(retry_min_s=0.05), waiters=waiters if wake else None
    )
    tasks = [asyncio.create_task(link.run()), asyncio.create_task(ingest.run())]
    try:
        await link.wait_connected(10)
        async with serve(
            store,
            auth=AUTH,
            publisher=LinkPublisher(link),
            waiters=waiters,
            check_timeout_s=timeout_s,
        ) as client:
            yield client
        assert waiters.pending == 0
    finally:
        await link.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def check(client: TestClient[Any, Any], token: str = CRM) -> dict[str, Any]:
    resp = await client.get(CHECK, headers=bearer(token))
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_every_payment_printed_is_a_match(
    broker: Any, store: CloudStore, fake_agent: FakeAgent
) -> None:
    await seed_open_shift(store)
    async with cloud(broker.url, store) as client:
        body = await check(client, SUPPORT)
    assert body["result"] == "match"
    assert body["rows"] == []
    assert body["difference"] == {
        "cash": "0.00",
        "card": "0.00",
        "prepaid": "0.00",
        "total": "0.00",
    }
    assert body["shift"]["number"] == 12
    assert fake_agent.commands == [{"id": body["request_id"], "action": "x_report"}]
    uuid.UUID(body["request_id"])  # a new uuid per check
    stored = await store.shift_reports(CLUB, AGENT, 12)
    assert [rec.report.request_id for rec in stored if rec.report.kind == "x"] == [
        body["request_id"]
    ]


async def test_a_payment_the_register_never_printed_is_a_discrepancy(
    broker: Any, store: CloudStore, fake_agent: FakeAgent
) -> None:
    await seed_open_shift(store)
    await store.record_requests(CLUB, AGENT, [request("r5", 5050)])  # sent, never printed
    async with cloud(broker.url, store) as client:
        body = await check(client)
    assert body["result"] == "discrepancy"
    assert body["difference"] == {
        "cash": "50.50",
        "card": "0.00",
        "prepaid": "0.00",
        "total": "50.50",
    }
    assert [(row["id"], row["status"]) for row in body["rows"]] == [("r5", "crm_only")]
    assert len(fake_agent.commands) == 1


async def test_no_answer_is_register_unavailable_after_the_timeout(
    broker: Any, store: CloudStore
) -> None:
    await seed_open_shift(store)
    listener = PlainClient(broker.url, "listener", subscribe=(PREFIX + "cmd/shift",)).connect()
    try:
        async with cloud(broker.url, store, timeout_s=0.5) as client:
            started = asyncio.get_running_loop().time()
            body = await check(client)
            waited = asyncio.get_running_loop().time() - started
    finally:
        listener.close()
    assert body["result"] == "register_unavailable"
    assert "within 0.5 s" in body["reason"]
    assert body["difference"] is None
    assert body["rows"] == []
    assert 0.5 <= waited < 5
    sent = listener.received("cmd/shift")
    assert [message.json() for message in sent] == [
        {"id": body["request_id"], "action": "x_report"}
    ]


async def test_a_failed_x_report_is_register_unavailable_with_why(
    broker: Any, store: CloudStore, fake_agent: FakeAgent
) -> None:
    fake_agent.fail = True
    await seed_open_shift(store)
    async with cloud(broker.url, store, timeout_s=5.0) as client:
        started = asyncio.get_running_loop().time()
        body = await check(client)
        waited = asyncio.get_running_loop().time() - started
    assert body["result"] == "register_unavailable"
    assert body["reason"] == (
        "the agent's x_report ended failed: register_unreachable: no answer on the line"
    )
    assert waited < 4  # answered by the outcome, not by the timeout


async def test_a_report_stored_by_another_instance_is_found_in_the_store(
    broker: Any, store: CloudStore, fake_agent: FakeAgent
) -> None:
    """With shared subscriptions the report may reach another cloud instance's ingest."""
    await seed_open_shift(store)
    async with cloud(broker.url, store, wake=False) as client:
        body = await check(client)
    assert body["result"] == "match"


async def test_without_mqtt_the_check_answers_503(store: CloudStore) -> None:
    async with serve(store, auth=AUTH) as client:
        resp = await client.get(CHECK, headers=bearer(CRM))
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "mqtt_unavailable"
        resp = await client.get(CHECK)
        assert resp.status == 401
