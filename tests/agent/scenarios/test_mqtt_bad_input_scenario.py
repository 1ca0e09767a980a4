"""1,000 malformed commands mixed with good ones: the agent lives, every bad one is named.

Bad JSON, wrong types, float or negative money, an unknown kind, an unknown shift action, a
payload of 1 MB or more, a known id with other content. (A topic the agent does not serve never
reaches it through its subscriptions; the consumer's answer to one is a unit test.) A bad payload with a readable
new id gets a rejected ReceiptResult under that id; one without gets ``evt/rejected`` naming
the topic and the reason. Nothing is printed for any of them; the good ones are all done.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.support.mqtt_client import PREFIX, PlainClient, wait_agent_subscribed
from tests.support.payloads import receipt

pytestmark = [pytest.mark.sim, pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(300)]

BAD = 1000
GOOD = 60


def _bad_payloads(rng: random.Random) -> list[tuple[str, bytes | str, str | None, str]]:
    """(topic suffix, payload, the id the answer carries or None, where the answer goes)."""
    cases: list[tuple[str, bytes | str, str | None, str]] = []
    for i in range(BAD):
        request_id = f"bad-{i:04d}"
        good = receipt(request_id, 15_000)
        choice = i % 10
        if choice == 0:
            cases.append(("cmd/receipt", b"{not json", None, "evt/rejected"))
        elif choice == 1:
            cases.append(("cmd/receipt", b"\xff\xfe\x00garbage", None, "evt/rejected"))
        elif choice == 2:
            body = {**good, "items": [{**good["items"][0], "price": 150.0}]}
            cases.append(("cmd/receipt", json.dumps(body), request_id, "evt/receipt"))
        elif choice == 3:
            body = {**good, "payments": {"cash": "-150.00"}}
            cases.append(("cmd/receipt", json.dumps(body), request_id, "evt/receipt"))
        elif choice == 4:
            body = {**good, "kind": "gift"}
            cases.append(("cmd/receipt", json.dumps(body), request_id, "evt/receipt"))
        elif choice == 5:
            cases.append(("cmd/receipt", json.dumps({**good, "id": 12345}), None, "evt/rejected"))
        elif choice == 6:
            cases.append(("cmd/receipt", json.dumps([good]), None, "evt/rejected"))
        elif choice == 7:
            body = {"id": request_id, "action": "explode"}
            cases.append(("cmd/shift", json.dumps(body), None, "evt/rejected"))
        elif choice == 8:
            body = {"id": request_id, "direction": "sideways", "amount": "1.00"}
            cases.append(("cmd/cash", json.dumps(body), request_id, "evt/command"))
        else:
            cases.append(("cmd/shift", json.dumps({"action": "close"}), None, "evt/rejected"))
    rng.shuffle(cases)
    return cases


def test_a_thousand_malformed_commands_never_stop_the_agent(
    broker: Any, start_sim: Any, start_agent: Any
) -> None:
    """Every bad command answered with its reason, the good ones done, nothing printed for bad."""
    rng = random.Random(20261201)
    sim = start_sim()
    agent = start_agent(
        sim, settings={"mqtt": {"url": broker.url, "keepalive_s": 5, "drain_rate": 5000}}
    )
    wait_agent_subscribed(broker.url)
    crm = PlainClient(broker.url, "crm-test", subscribe=(PREFIX + "evt/#",)).connect()
    try:
        bad = _bad_payloads(rng)
        good_ids = [f"good-{i:03d}" for i in range(GOOD)]
        stream: list[tuple[str, bytes | str]] = [(s, p) for s, p, _, _ in bad]
        for i, request_id in enumerate(good_ids):
            stream.insert(
                rng.randrange(len(stream)),
                ("cmd/receipt", json.dumps(receipt(request_id, 30_000 + i))),
            )
        # One payload of 1 MB and one known id with other content.
        stream.append(("cmd/receipt", b"{" + b" " * 1_000_000 + b"}"))
        stream.append(("cmd/receipt", json.dumps(receipt(good_ids[0], 99_900))))
        for suffix, payload in stream:
            crm.publish(PREFIX + suffix, payload)

        expected_rejected = sum(1 for _, _, rid, where in bad if where == "evt/rejected") + 2

        def answered() -> bool:
            return crm.all_done(good_ids) and len(crm.received("evt/rejected")) >= expected_rejected

        crm.wait_for(answered, timeout_s=200, what="answers to every command")
        assert agent.is_alive()
        results = crm.by_id("evt/receipt")
        commands = crm.by_id("evt/command")
        for _, _, request_id, where in bad:
            if request_id is None:
                continue
            answers = (results if where == "evt/receipt" else commands)[request_id]
            assert [a["status"] for a in answers] == ["rejected"], (request_id, answers)
            assert answers[0]["error"]["code"]
            assert answers[0]["error"]["message"]
        rejected = [m.json() for m in crm.received("evt/rejected")]
        assert len(rejected) == expected_rejected
        assert all(r["code"] and r["message"] and r["topic"].startswith(PREFIX) for r in rejected)
        codes = {r["code"] for r in rejected}
        assert {
            "invalid_json",
            "invalid_request",
            "too_large",
            "id_conflict",
        } <= codes
        conflict = next(r for r in rejected if r["code"] == "id_conflict")
        assert conflict["id"] == good_ids[0]
        assert [r["status"] for r in results[good_ids[0]]] == ["done"], "the id's result stays"
        receipts = [doc for doc in sim.tape() if doc["type"] == "receipt"]
        assert sorted(doc["mark"] for doc in receipts) == sorted(good_ids)
        log = (agent.workdir / "agent.log").read_text()
        assert "Traceback" not in log
    finally:
        crm.close()
