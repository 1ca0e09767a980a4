"""End to end: a CRM's payments over MQTT, the agent prints them, the cloud reconciles the shift.

Real Mosquitto, firmware-sim, the agent and ``fiscal-cloud run`` as separate processes, and a
plain paho client as the CRM. 500 payments are published on ``cmd/receipt``; the cloud keeps
each request (it subscribes to the CRM's stream too) and each result; after the Z every row of
the shift is ``matched`` and the Z's register total equals the CRM's cash-register total.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud_process import Cloud
from tests.support.mqtt_client import PREFIX, PlainClient, wait_agent_subscribed
from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sim,
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

PAYMENTS = 500


def test_500_mqtt_payments_are_all_matched_and_the_z_equals_the_crm_total(
    broker: Any, start_sim: Any, start_agent: Any, tmp_path: Path
) -> None:
    """500 payments: every row matched, difference 0, Z register total = CRM register total."""
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url, "drain_rate": 5000}})
    wait_agent_subscribed(broker.url)
    cloud = Cloud(tmp_path / "cloud", broker.url).start()
    base = cloud.base
    crm = PlainClient(broker.url, "crm-e2e", subscribe=(PREFIX + "evt/receipt",)).connect()
    try:
        ids = [f"e2e-{i:03d}" for i in range(PAYMENTS)]
        for i, request_id in enumerate(ids):
            pay = ("cash", "card", "cash")[i % 3]
            extra = 5000 if i % 3 == 2 else 0  # cash with change
            crm.publish(
                PREFIX + "cmd/receipt", receipt(request_id, 10_000 + i, pay=pay, extra_cash=extra)
            )
        crm.wait_for(lambda: crm.all_done(ids), timeout_s=180, what="every result")
        status, z_report = http("POST", f"{agent.base}/shift", {"action": "close"}, timeout_s=30)
        assert status == 200, z_report

        def reconciled() -> dict[str, Any] | None:
            status, body = http(
                "GET",
                f"{base}/api/v1/clubs/club-1/reconciliation?agent=desk-1&shift={z_report['shift']}"
                f"&limit={PAYMENTS + 10}",
            )
            if status != 200 or body["totals"].get("z_register_total") is None:
                return None
            matched = [row for row in body["rows"] if row["status"] == "matched"]
            return body if len(matched) == PAYMENTS else None

        body = wait_until(reconciled, timeout_s=60, what="the cloud to match every payment")
        statuses = {row["status"] for row in body["rows"]}
        assert statuses == {"matched"}
        totals = body["totals"]
        assert totals["crm_register_total"] == totals["z_register_total"]
        assert Decimal(totals["difference"]["total"]) == 0
        expected = sum(Decimal(10_000 + i) / 100 for i in range(PAYMENTS))
        assert Decimal(totals["crm_register_total"]["total"]) == expected
        assert cloud.is_alive(), "the cloud died"
    finally:
        crm.close()
        cloud.stop()
