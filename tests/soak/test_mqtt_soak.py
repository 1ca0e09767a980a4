"""Soak: 5,000 real receipts printed while the broker is down, then every result delivered.

The full run behind the scenario that queues 5,000 entries directly: here each entry is the
result of a receipt the agent printed on the simulator, with the broker stopped from the first
payment to the last result, and restarted a few times while the backlog drains. Runs under
``make soak`` only (about 75 s on a 2-core VM: 5,000 receipts printed, then delivered).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.broker import require_mosquitto
from tests.support.mqtt_client import PlainClient
from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.soak, pytest.mark.sim, pytest.mark.broker, pytest.mark.timeout(1800)]

RECEIPTS = 5000


def test_5000_receipts_printed_with_the_broker_down_all_results_arrive(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """Payments over HTTP with the broker down; back up (and bounced twice): every result."""
    require_mosquitto("a persistent session's queued QoS 1 messages across restarts", broker)
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url, "drain_rate": 500}})
    crm = PlainClient(broker.url, "crm-soak", persistent=True).connect()
    crm.close()  # the session stays at the broker and collects the results
    broker.stop()
    ids = [f"soak-{i:05d}" for i in range(RECEIPTS)]
    for i, request_id in enumerate(ids):
        body = receipt(request_id, 10_000 + i, pay=("cash", "card")[i % 2])
        assert http("POST", f"{agent.base}/receipts", body)[0] == 202
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1]["outbox"]["pending"] == 0,
        timeout_s=900,
        interval_s=1,
        what="every receipt printed",
    )
    health = http("GET", f"{agent.base}/health")[1]
    assert health["sync"]["pending"] >= RECEIPTS
    broker.start()
    crm = PlainClient(broker.url, "crm-soak", persistent=True).connect()
    try:
        for _ in range(2):
            time.sleep(3)
            broker.stop()
            time.sleep(1)
            broker.start()
        crm.wait_for(
            lambda: crm.all_done(ids),
            timeout_s=600,
            what=f"{RECEIPTS} results",
        )
        for request_id, answers in crm.by_id("evt/receipt").items():
            assert all(a == answers[0] for a in answers), f"{request_id}: results differ"
            assert answers[0]["status"] == "done"
        marks = [doc["mark"] for doc in sim.tape() if doc["type"] == "receipt"]
        assert sorted(marks) == ids
        wait_until(
            lambda: http("GET", f"{agent.base}/health")[1]["sync"]["pending"] == 0,
            timeout_s=60,
            what="the sync queue to drain",
        )
    finally:
        crm.close()
