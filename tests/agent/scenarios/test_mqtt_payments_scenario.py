"""Payments over MQTT, as a CRM sends them: a plain client, a real Mosquitto, the agent process.

500 payments published by a plain MQTT client come back as 500 results, each done, each with
exactly one receipt on the FN tape, proven by the mark. A CRM's retry (the same payload again)
gets the same result again and no second document. The agent SIGKILLed after it committed a
command but before its PUBACK left: the broker delivers it again and there is still one receipt.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest

from tests.support.broker import require_mosquitto
from tests.support.mqtt_client import PlainClient, wait_agent_subscribed
from tests.support.payloads import receipt

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(420)]

PAYMENTS = 500
RECEIPT_TOPIC = "fiscal/v1/club-1/desk-1/cmd/receipt"


def _mqtt(broker: Any, **extra: Any) -> dict[str, Any]:
    return {"mqtt": {"url": broker.url, "keepalive_s": 5, "drain_rate": 5000, **extra}}


def _revive(agent: Any) -> None:
    """Restart a dead agent, as systemd would; it may die again at the crash point at once."""
    if agent.is_alive():
        return
    with contextlib.suppress(RuntimeError):  # killed again while starting: next call restarts
        agent.start()


def _one_receipt_per_id(sim: Any, ids: set[str]) -> None:
    marks = Counter(doc.get("mark") for doc in sim.tape() if doc["type"] == "receipt")
    assert {mark for mark, n in marks.items() if n > 1} == set(), "an id got two receipts"
    assert set(marks) == ids


def test_500_payments_over_mqtt_each_done_once(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """500 payments from a plain client: 500 done results, one receipt each; a retry repeats."""
    sim = start_sim()
    start_agent(sim, settings=_mqtt(broker))
    wait_agent_subscribed(broker.url)
    crm = PlainClient(broker.url, "crm-test").connect()
    try:
        ids = [f"mq-{i:04d}" for i in range(PAYMENTS)]
        for i, request_id in enumerate(ids):
            crm.publish(RECEIPT_TOPIC, receipt(request_id, 10_000 + i, pay=("cash", "card")[i % 2]))
        crm.wait_for(
            lambda: len(crm.by_id("evt/receipt")) >= PAYMENTS,
            timeout_s=180,
            what=f"{PAYMENTS} results",
        )
        results = crm.by_id("evt/receipt")
        assert set(results) == set(ids)
        for request_id, answers in results.items():
            assert {a["status"] for a in answers} == {"done"}, (request_id, answers)
            assert all(a == answers[0] for a in answers), f"{request_id}: results differ"
            assert answers[0]["fiscal"]["mark"] == request_id
            assert answers[0]["fiscal"]["doc_id"] == (
                f"{answers[0]['fiscal']['fn']}:{answers[0]['fiscal']['fd']}"
            )
        _one_receipt_per_id(sim, set(ids))

        # A CRM retry of a done payment: the same result once more, no second document.
        before = len(crm.received("evt/receipt"))
        crm.publish(RECEIPT_TOPIC, receipt(ids[7], 10_007, pay="card"))
        crm.wait_for(
            lambda: len(crm.received("evt/receipt")) > before, timeout_s=20, what="the answer"
        )
        again = crm.received("evt/receipt")[-1].json()
        assert again == results[ids[7]][0]
        _one_receipt_per_id(sim, set(ids))
    finally:
        crm.close()


def test_killed_between_commit_and_puback_the_broker_delivers_again(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """SIGKILL after the commit, before the PUBACK: redelivered, answered, one receipt each."""
    require_mosquitto("amqtt does not redeliver QoS 1 to a returning persistent session", broker)
    sim = start_sim()
    agent = start_agent(
        sim,
        settings=_mqtt(broker),
        env={"FISCAL_EDGE_CRASH_POINTS": "before_puback=0.3"},
    )
    wait_agent_subscribed(broker.url)
    crm = PlainClient(broker.url, "crm-test").connect()
    ids = [f"kill-{i:03d}" for i in range(40)]
    try:
        for i, request_id in enumerate(ids):
            crm.publish(RECEIPT_TOPIC, receipt(request_id, 20_000 + i))
            _revive(agent)

        def all_done() -> bool:
            _revive(agent)
            return crm.all_done(ids)

        # Each of a dozen kills costs an agent start (its imports, the pty, the broker
        # session): about 80 s in all alone, minutes on a busy machine.
        crm.wait_for(all_done, timeout_s=300, what="every result after the kills")
        kills = [r for r in agent.log_records() if r.get("event") == "crash_point"]
        assert kills, "the crash point never fired"
        duplicates = [r for r in agent.log_records() if r.get("event") == "duplicate"]
        assert duplicates, "no command was delivered again after a kill"
        _one_receipt_per_id(sim, set(ids))
    finally:
        crm.close()


def test_no_room_is_not_acknowledged_and_the_broker_delivers_it_later(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """The outbox full (paper out, max_pending 2): the rest wait at the broker, then all print."""
    require_mosquitto("redelivery of unacknowledged QoS 1 messages on a new connection", broker)
    sim = start_sim()
    agent = start_agent(sim, settings={**_mqtt(broker), "outbox": {"max_pending": 2}})
    wait_agent_subscribed(broker.url)
    sim.post("/paper/out")
    crm = PlainClient(broker.url, "crm-test").connect()
    ids = [f"room-{i}" for i in range(6)]
    try:
        for i, request_id in enumerate(ids):
            crm.publish(RECEIPT_TOPIC, receipt(request_id, 50_000 + i))
        crm.wait_for(
            lambda: any(r.get("event") == "no_room_reconnecting" for r in agent.log_records()),
            timeout_s=30,
            what="the agent to refuse a command for lack of room",
        )
        assert crm.by_id("evt/receipt") == {}, "nothing is final while the paper is out"
        sim.post("/paper/back")
        crm.wait_for(
            lambda: crm.all_done(ids),
            timeout_s=120,
            what="every payment once there is room",
        )
        _one_receipt_per_id(sim, set(ids))
    finally:
        crm.close()
