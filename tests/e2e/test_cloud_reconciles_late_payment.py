"""End to end: yesterday's payment printed today as a correction; the cloud explains both shifts.

Real Mosquitto, firmware-sim, the agent and ``fiscal-cloud run`` as separate processes, and a
plain paho client as the CRM. Yesterday: a coffee is printed and the shift closed, while a
second payment taken in that shift stays in the CRM. Today (the register's clock a day on)
the CRM publishes it with its ``paid_at``: the agent prints a correction receipt. The cloud
matches it by its mark, ``late`` with the shift it was printed in; yesterday's shift lists
it as fixed later, today's as a correction, and both differences are 0. With
``late = "never"`` it is an ordinary receipt of today's shift, still matched.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
    pytest.mark.timeout(180),
]

DAY_S = 86400


def _close(agent: Any) -> dict[str, Any]:
    status, report = http("POST", f"{agent.base}/shift", {"action": "close"}, timeout_s=30)
    assert status == 200, report
    return report  # type: ignore[no-any-return]


def _reconciled(base: str, shift: int, ids: set[str]) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        status, body = http(
            "GET", f"{base}/api/v1/clubs/club-1/reconciliation?agent=desk-1&shift={shift}"
        )
        if status != 200 or body["totals"].get("z_register_total") is None:
            return None
        matched = {row["id"] for row in body["rows"] if row["status"] == "matched"}
        return body if ids <= matched else None

    return wait_until(ready, timeout_s=60, what=f"shift {shift} reconciled")  # type: ignore[no-any-return]


@pytest.mark.parametrize("late", ["other_shift", "never"])
def test_yesterdays_payment_printed_today_reconciles_in_both_shifts(
    broker: Any, start_sim: Any, start_agent: Any, tmp_path: Path, late: str
) -> None:
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url}, "receipts": {"late": late}})
    wait_agent_subscribed(broker.url)
    cloud = Cloud(tmp_path / "cloud", broker.url).start()
    crm = PlainClient(broker.url, "crm-late", subscribe=(PREFIX + "evt/receipt",)).connect()
    try:
        crm.publish(PREFIX + "cmd/receipt", receipt("coffee", 15_000))
        crm.wait_for(lambda: crm.all_done(["coffee"]), timeout_s=60, what="the coffee")
        paid_at = datetime.now(UTC).replace(microsecond=0)  # in yesterday's shift
        yesterday = _close(agent)["shift"]
        sim.post("/clock/advance", {"seconds": DAY_S})
        body = receipt("late", 20_000, pay="card") | {"paid_at": paid_at.isoformat()}
        crm.publish(PREFIX + "cmd/receipt", body)
        crm.wait_for(lambda: crm.all_done(["late"]), timeout_s=60, what="the late payment")
        today = _close(agent)["shift"]
        assert today == yesterday + 1

        rec1 = _reconciled(cloud.base, yesterday, {"coffee", "late"})
        rec2 = _reconciled(cloud.base, today, {"late"})
        row1 = next(row for row in rec1["rows"] if row["id"] == "late")
        (row2,) = rec2["rows"]
        assert row1["status"] == row2["status"] == "matched"
        assert row1["fiscal"]["shift"] == today
        if late == "other_shift":
            assert row1["fiscal"]["type"] == "correction"
            assert row1["late"] is True
            assert row1["printed_in_shift"] == today
            assert row2["late"] is True
            assert rec1["fixed_later_total"]["card"] == "200.00"
            assert rec2["corrections_total"]["card"] == "200.00"
            assert Decimal(rec1["totals"]["difference"]["total"]) == 0
            assert Decimal(rec2["totals"]["difference"]["total"]) == 0
        else:
            assert row1["fiscal"]["type"] == "receipt"
            assert "late" not in row1
            assert row1["other_shift"] is True
            # An ordinary receipt lands in today's Z: each shift shows the gap, both matched.
            assert rec1["totals"]["difference"]["card"] == "200.00"
            assert rec2["totals"]["difference"]["card"] == "-200.00"
        assert cloud.is_alive(), "the cloud died"
    finally:
        crm.close()
        cloud.stop()
