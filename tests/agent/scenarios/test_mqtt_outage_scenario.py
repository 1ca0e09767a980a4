"""The broker goes away and comes back: nothing the agent owes the cloud is lost.

Under load the broker is stopped and started several times; every result arrives, none twice
with different content. Then the broker stays down while 5,000 results wait in the sync queue
(put there directly, as results of receipts would be: the full run with real receipts is under
``make soak``); once it is back the queue drains, in order, and health says it is empty.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.broker import require_mosquitto
from tests.support.mqtt_client import PREFIX, PlainClient, wait_agent_subscribed
from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(400)]

RECEIPT_TOPIC = PREFIX + "cmd/receipt"
QUEUED = 5000


def _settings(broker: Any) -> dict[str, Any]:
    return {"mqtt": {"url": broker.url, "keepalive_s": 5, "drain_rate": 2000}}


def test_broker_restarts_under_load_lose_nothing(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """Three broker restarts while payments flow: every result arrives, never altered."""
    require_mosquitto("amqtt loses QoS 1 messages queued for a persistent session", broker)
    sim = start_sim()
    start_agent(sim, settings=_settings(broker))
    wait_agent_subscribed(broker.url)
    # The CRM keeps its session too: results published while it reconnects wait for it.
    crm = PlainClient(broker.url, "crm-outage", persistent=True).connect()
    ids = [f"out-{i:03d}" for i in range(150)]
    try:
        for i, request_id in enumerate(ids):
            crm.publish(RECEIPT_TOPIC, receipt(request_id, 40_000 + i))
            if i in (40, 80, 120):
                broker.stop()
                time.sleep(1.5)
                broker.start()
                crm.wait_for(crm.client.is_connected, timeout_s=30, what="the CRM to reconnect")
        crm.wait_for(
            lambda: crm.all_done(ids),
            timeout_s=180,
            what="every result after the restarts",
        )
        for request_id, answers in crm.by_id("evt/receipt").items():
            done = [a for a in answers if a["status"] == "done"]
            assert all(a == done[0] for a in done), f"{request_id}: two different results"
        marks = [doc["mark"] for doc in sim.tape() if doc["type"] == "receipt"]
        assert sorted(marks) == sorted(ids)
    finally:
        crm.close()


def test_5000_results_queued_while_the_broker_is_down_all_arrive_in_order(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """The broker down, 5,000 entries queued; back up: all arrive in queue order, queue empty."""
    sim = start_sim()
    agent = start_agent(sim, settings=_settings(broker))
    wait_agent_subscribed(broker.url)
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1].get("state") != "offline",
        timeout_s=20,
        what="the agent's health",
    )
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["sync"].get("broker") == "up",
        timeout_s=20,
        what="health to say the broker is up",
    )
    broker.stop()
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["sync"].get("broker") == "down",
        timeout_s=20,
        what="health to say the broker is down",
    )
    now = datetime.now(UTC).isoformat()
    payloads = [
        json.dumps({"kind": "z", "shift": n, "fn": "9999078900001234", "seq_check": n})
        for n in range(QUEUED)
    ]
    conn = sqlite3.connect(agent.workdir / "agent.sqlite3", timeout=10)
    with conn:
        conn.executemany(
            "INSERT INTO sync_queue (topic, payload, queued_at) VALUES ('shift', ?, ?)",
            [(p, now) for p in payloads],
        )
    conn.close()
    status, health = http("GET", f"{agent.base}/health")
    assert status == 200
    assert health["sync"]["pending"] >= QUEUED
    broker.start()
    crm = PlainClient(broker.url, "crm-drain", subscribe=(PREFIX + "evt/shift",)).connect()
    try:
        crm.wait_for(
            lambda: len({m.json()["seq_check"] for m in crm.received("evt/shift")}) >= QUEUED,
            timeout_s=120,
            what=f"{QUEUED} queued results",
        )
        seen = [m.json()["seq_check"] for m in crm.received("evt/shift")]
        first = list(dict.fromkeys(seen))  # each seq_check at its first arrival
        assert first == list(range(QUEUED)), "the queue drained out of order"
        wait_until(
            lambda: http("GET", f"{agent.base}/health")[1]["sync"]["pending"] == 0,
            timeout_s=30,
            what="the sync queue to drain",
        )
    finally:
        crm.close()
