"""GET /metrics: the agent's counters, round trips and health gauges in the Prometheus format.

Scraped from the in-process agent (the real driver over the simulator's device, a real
SQLite outbox) and parsed with prometheus_client's own parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from agent.adapters.metrics import AgentMetrics
from agent.contract import Health
from agent.contract.health import LineHealth, OutboxHealth, RegisterHealth, SyncHealth
from agent.outbox.states import RowKind, RowState
from tests.support.agent_rig import FAST_WORKER, AgentRig, running_agent, until
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(20)

CLOSE = 0xFF45
INVALID_ARGUMENT = 0x33  # the register's "invalid parameter": the driver's InvalidArgument


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample by (name, sorted labels); the parser fails on anything malformed."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[AgentRig]:
    """An agent whose worker runs, idle check off, on a register with an open shift."""
    async with running_agent(
        tmp_path, params=replace(FAST_WORKER, idle_tick_s=3600), wait_ready=True
    ) as made:
        yield made


def _refuse_close_of(rig: AgentRig, request_id: str) -> None:
    """The close of ``request_id``'s receipt is refused once, before it ran."""

    def refuse(payload: bytes) -> bytes | None:
        row = rig.outbox.get(request_id)
        if row is None or row.state is not RowState.PRINTING:
            return None
        del rig.register.intercept[CLOSE]
        return payload[:2] + bytes([INVALID_ARGUMENT])

    rig.register.intercept[CLOSE] = refuse


def _is_final(rig: AgentRig, request_id: str) -> bool:
    row = rig.outbox.get(request_id)
    return row is not None and row.state.is_final


async def _scrape(rig: AgentRig) -> tuple[str, Samples]:
    response = await rig.client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    return response.headers["Content-Type"], samples(text)


async def test_metrics_after_receipts_count_results_errors_and_round_trips(
    rig: AgentRig,
) -> None:
    """Two done, one refused by the register: the counters, the histogram and the gauges."""
    _refuse_close_of(rig, "bad")
    for request_id, kopecks in (("a", 15000), ("bad", 15000), ("b", 20000)):
        response = await rig.client.post("/api/v1/receipts", json=receipt(request_id, kopecks))
        assert response.status == 202
        await until(lambda request_id=request_id: _is_final(rig, request_id))
    assert rig.outbox.get("bad").state is RowState.REJECTED  # type: ignore[union-attr]

    content_type, found = await _scrape(rig)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"

    assert value(found, "fiscal_agent_receipts_total", status="done") == 2
    assert value(found, "fiscal_agent_receipts_total", status="rejected") == 1
    assert value(found, "fiscal_agent_receipts_total", status="failed") == 0
    assert value(found, "fiscal_agent_receipts_total", status="unknown") == 0
    assert value(found, "fiscal_agent_driver_errors_total", code="invalid_argument") == 1

    # Three closes were answered (one of them with the refusal); every answer was timed.
    round_trip = "fiscal_agent_register_round_trip_seconds"
    assert value(found, f"{round_trip}_count", command="FF45") == 3
    assert value(found, f"{round_trip}_bucket", command="FF45", le="+Inf") == 3
    assert value(found, f"{round_trip}_sum", command="FF45") > 0  # type: ignore[operator]
    assert value(found, f"{round_trip}_count", command="FF46") >= 3  # type: ignore[operator]
    assert value(found, f"{round_trip}_count", command="0x10") is not None

    health = (await (await rig.client.get("/api/v1/health")).json()) | {}
    assert value(found, "fiscal_agent_outbox_depth", state="pending") == 0
    assert value(found, "fiscal_agent_outbox_depth", state="failed") == 0
    assert value(found, "fiscal_agent_outbox_depth", state="unknown") == 0
    assert value(found, "fiscal_agent_outbox_oldest_pending_age_seconds") == 0
    assert value(found, "fiscal_agent_line_stopped") == 0
    assert value(found, "fiscal_agent_register_link_up") == 1
    assert value(found, "fiscal_agent_shift_open") == 1
    shift_age = value(found, "fiscal_agent_shift_age_seconds")
    assert shift_age is not None
    assert 0 <= shift_age < 600
    assert value(found, "fiscal_agent_fn_days_left") == health["fn"]["days_left"]
    assert value(found, "fiscal_agent_fn_unsent_documents") == health["fn"]["unsent_docs"]
    # No broker in this rig: every result still waits in the sync queue, none is lost.
    assert value(found, "fiscal_agent_sync_queue_depth") == health["sync"]["pending"] == 3
    assert value(found, "fiscal_agent_sync_oldest_age_seconds") > 0  # type: ignore[operator]
    assert value(found, "fiscal_agent_broker_connected") is None  # no MQTT link to speak of


async def test_waiting_receipts_show_in_the_outbox_gauges(rig: AgentRig) -> None:
    """Paper out: the receipt waits; depth, age and the wait's error code show it."""
    rig.register.device.set_paper(False)
    response = await rig.client.post("/api/v1/receipts", json=receipt("waits", 15000))
    assert response.status == 202
    await until(lambda: rig.worker.condition is not None)

    _, found = await _scrape(rig)
    assert value(found, "fiscal_agent_outbox_depth", state="pending") == 1
    assert value(found, "fiscal_agent_outbox_oldest_pending_age_seconds") > 0  # type: ignore[operator]
    assert value(found, "fiscal_agent_driver_errors_total", code="paper_out") >= 1  # type: ignore[operator]
    assert value(found, "fiscal_agent_degraded") == 1
    assert value(found, "fiscal_agent_receipts_total", status="done") == 0


def test_each_agent_has_its_own_registry() -> None:
    """Two agents in one process count apart, and neither touches the global registry."""
    first, second = AgentMetrics(), AgentMetrics()
    first.receipt_result(RowKind.RECEIPT, RowState.DONE)
    first.receipt_result(RowKind.CASH, RowState.DONE)  # a cash movement is not a receipt
    first.register_error("link_down")
    first.round_trip("FF45", 0.2)
    idle = Health(state="online")
    one, two = samples(first.exposition(idle).decode()), samples(second.exposition(idle).decode())
    assert value(one, "fiscal_agent_receipts_total", status="done") == 1
    assert value(two, "fiscal_agent_receipts_total", status="done") == 0
    assert value(one, "fiscal_agent_driver_errors_total", code="link_down") == 1
    assert value(two, "fiscal_agent_driver_errors_total", code="link_down") is None
    assert value(one, "fiscal_agent_register_round_trip_seconds_bucket", command="FF45", le="0.25")
    assert REGISTRY.get_sample_value("fiscal_agent_receipts_total", {"status": "done"}) is None


def test_gauges_follow_health_and_leave_out_what_it_does_not_know() -> None:
    """A stopped line, the broker down, the register unreachable: each a gauge; no shift age."""
    health = Health(
        state="degraded",
        register=RegisterHealth(link="down", error="link_down"),
        outbox=OutboxHealth(pending=4, oldest_pending_age_s=95.5, failed=1, unknown=2),
        line=LineHealth(stopped=True, row="crm-7", reason="link_down"),
        sync=SyncHealth(pending=12, oldest_pending_age_s=300.0, broker="down"),
    )
    found = samples(AgentMetrics().exposition(health).decode())
    assert value(found, "fiscal_agent_degraded") == 1
    assert value(found, "fiscal_agent_register_link_up") == 0
    assert value(found, "fiscal_agent_line_stopped") == 1
    assert value(found, "fiscal_agent_broker_connected") == 0
    assert value(found, "fiscal_agent_outbox_depth", state="pending") == 4
    assert value(found, "fiscal_agent_outbox_depth", state="failed") == 1
    assert value(found, "fiscal_agent_outbox_depth", state="unknown") == 2
    assert value(found, "fiscal_agent_outbox_oldest_pending_age_seconds") == 95.5
    assert value(found, "fiscal_agent_sync_queue_depth") == 12
    assert value(found, "fiscal_agent_sync_oldest_age_seconds") == 300.0
    for unknown in ("shift_open", "shift_age_seconds", "fn_days_left", "fn_unsent_documents"):
        assert value(found, f"fiscal_agent_{unknown}") is None, unknown
