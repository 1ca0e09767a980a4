"""GET /metrics on the agent process: a scrape a Prometheus server would make, parsed.

The agent runs as a service against firmware-sim on a pty and a real broker; receipts go in
over the HTTP API and the scrape shows them done, the register's round trips timed, the
broker connected and the sync queue drained.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.payloads import receipt
from tests.support.processes import http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.timeout(90)]

RECEIPTS = 3


def _scrape(agent: Any) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    url = f"http://127.0.0.1:{agent.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return content_type, found


def test_metrics_of_the_running_agent(broker: Any, start_sim: Any, start_agent: Any) -> None:
    """Three receipts: three done, FF45 timed three times, broker up, nothing left to send."""
    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url, "keepalive_s": 5}})
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    ids = [f"metrics-{i}" for i in range(RECEIPTS)]
    for i, request_id in enumerate(ids):
        assert http("POST", f"{agent.base}/receipts", receipt(request_id, 10_000 + i))[0] == 202

    def settled() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        _, found = _scrape(agent)
        is_settled = (
            found.get(("fiscal_agent_receipts_total", (("status", "done"),))) == RECEIPTS
            and found.get(("fiscal_agent_broker_connected", ())) == 1
            and found.get(("fiscal_agent_sync_queue_depth", ())) == 0
        )
        return found if is_settled else None

    found = wait_until(settled, timeout_s=30, what="three receipts done and delivered")
    content_type, _ = _scrape(agent)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    health = http("GET", f"{agent.base}/health")[1]

    def value(name: str, **labels: str) -> float | None:
        return found.get((name, tuple(sorted(labels.items()))))

    assert value("fiscal_agent_receipts_total", status="rejected") == 0
    assert value("fiscal_agent_receipts_total", status="failed") == 0
    round_trip = "fiscal_agent_register_round_trip_seconds"
    assert value(f"{round_trip}_count", command="FF45") == RECEIPTS
    assert 0 < value(f"{round_trip}_sum", command="FF45") < 30  # type: ignore[operator]
    assert value("fiscal_agent_outbox_depth", state="pending") == 0
    assert value("fiscal_agent_outbox_oldest_pending_age_seconds") == 0
    assert value("fiscal_agent_sync_oldest_age_seconds") == 0
    assert value("fiscal_agent_line_stopped") == 0
    assert value("fiscal_agent_register_link_up") == 1
    assert value("fiscal_agent_degraded") == 0
    assert value("fiscal_agent_shift_open") == 1
    assert value("fiscal_agent_fn_days_left") == health["fn"]["days_left"]
    assert value("fiscal_agent_fn_unsent_documents") == health["fn"]["unsent_docs"]
    assert value("fiscal_agent_shift_age_seconds") is not None
