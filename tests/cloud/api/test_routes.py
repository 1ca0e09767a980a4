"""Every other route of the cloud API over a real SQLite store, and who may call it."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from agent.contract import ReceiptRequest
from cloud.api import receipt_topic
from cloud.store import CloudStore
from tests.cloud.api.conftest import AUTH, CRM, SUPPORT, FakePublisher, bearer, serve
from tests.cloud.api.seed import AGENT, CLUB, FN, seed_small_shift

Client = TestClient[Any, Any]
DOC = f"{FN}:104"
TX = {"id": "app2", "amount": "75.25", "kind": "sale", "at": "2026-01-05T18:00:00+03:00"}
ACTION = {"by": "Ivan", "reason": "paid in the CRM, receipt never printed"}


async def test_healthz_is_open_and_every_other_route_needs_a_token(client: Client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json()) == {"status": "ok"}
    for method, path in (
        ("GET", "/api/v1/agents"),
        ("GET", f"/api/v1/clubs/{CLUB}/receipts"),
        ("GET", f"/api/v1/clubs/{CLUB}/reconciliation?agent={AGENT}"),
        ("POST", f"/api/v1/clubs/{CLUB}/transactions"),
        ("POST", f"/api/v1/clubs/{CLUB}/agents/{AGENT}/reissue/r4"),
        ("POST", f"/api/v1/clubs/{CLUB}/agents/{AGENT}/adopt/{DOC}"),
    ):
        for headers in ({}, bearer("not-a-known-token-at-all"), {"Authorization": f"Basic {CRM}"}):
            resp = await client.request(method, path, headers=headers)
            assert resp.status == 401, (method, path, headers)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_agents_lists_the_last_health(store: CloudStore, client: Client) -> None:
    await store.record_health(
        CLUB, AGENT, {"state": "online", "boot": 3, "seq": 7, "version": "0.1.0"}
    )
    for token in (CRM, SUPPORT):
        resp = await client.get("/api/v1/agents", headers=bearer(token))
        assert resp.status == 200
        body = await resp.json()
        assert len(body["agents"]) == 1
        agent = body["agents"][0]
        assert (agent["club"], agent["agent"]) == (CLUB, AGENT)
        assert agent["health"]["state"] == "online"
        assert (agent["health"]["boot"], agent["health"]["seq"]) == (3, 7)
        assert agent["seen_at"].startswith("2026-01-05T12:00:00")


async def test_receipts_by_club_agent_and_shift(store: CloudStore, client: Client) -> None:
    await seed_small_shift(store)
    resp = await client.get(f"/api/v1/clubs/{CLUB}/receipts", headers=bearer(SUPPORT))
    assert resp.status == 200
    body = await resp.json()
    assert [(r["id"], r["status"]) for r in body["receipts"]] == [
        ("r1", "done"),
        ("r2", "done"),
        ("r3", "done"),
        ("r4", "failed"),
    ]
    assert body["receipts"][0]["fiscal"]["doc_id"] == f"{FN}:101"
    assert body["receipts"][0]["fiscal"]["total"] == "150.00"
    resp = await client.get(
        f"/api/v1/clubs/{CLUB}/receipts?agent={AGENT}&shift=12", headers=bearer(CRM)
    )
    assert [r["id"] for r in (await resp.json())["receipts"]] == ["r1", "r2", "r3"]
    resp = await client.get(f"/api/v1/clubs/{CLUB}/receipts?agent=other", headers=bearer(CRM))
    assert (await resp.json())["receipts"] == []
    resp = await client.get(f"/api/v1/clubs/{CLUB}/receipts?shift=x", headers=bearer(CRM))
    assert resp.status == 400
    resp = await client.get("/api/v1/clubs/bad.club/receipts", headers=bearer(CRM))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_name"


async def test_crm_posts_transactions_and_they_count_in_the_grand_total(
    store: CloudStore, client: Client
) -> None:
    await seed_small_shift(store)
    url = f"/api/v1/clubs/{CLUB}/transactions"
    resp = await client.post(url, json={"transactions": [TX]}, headers=bearer(CRM))
    assert resp.status == 201
    assert (await resp.json()) == {"stored": 1}
    again = await client.post(url, json={"transactions": [TX]}, headers=bearer(CRM))
    assert again.status == 201  # idempotent by id
    stored = await store.transactions(CLUB)
    assert [tx.id for tx in stored] == ["app1", "app2"]
    resp = await client.get(
        f"/api/v1/clubs/{CLUB}/reconciliation?agent={AGENT}", headers=bearer(CRM)
    )
    grand = (await resp.json())["totals"]["crm_grand_total"]
    assert grand == {"cash": "190.49", "card": "375.24", "prepaid": "0.00", "total": "565.73"}


async def test_support_may_not_post_transactions(client: Client) -> None:
    resp = await client.post(
        f"/api/v1/clubs/{CLUB}/transactions", json={"transactions": [TX]}, headers=bearer(SUPPORT)
    )
    assert resp.status == 403
    body = await resp.json()
    assert body["error"]["code"] == "forbidden"
    assert "transactions" in body["error"]["message"]


async def test_bad_transactions_are_refused_with_the_field(
    store: CloudStore, client: Client
) -> None:
    url = f"/api/v1/clubs/{CLUB}/transactions"
    cases: list[tuple[Any, str]] = [
        ({"transactions": [{**TX, "amount": 75.25}]}, "transactions.0.amount"),
        ({"transactions": [{**TX, "amount": "0.00"}]}, "transactions.0.amount"),
        ({"transactions": [{**TX, "at": "2026-01-05T18:00:00"}]}, "transactions.0.at"),
        ({"transactions": [{**TX, "kind": "gift"}]}, "transactions.0.kind"),
        ({"transactions": []}, "transactions"),
        ({"transactions": [TX], "extra": 1}, "extra"),
    ]
    for body, where in cases:
        resp = await client.post(url, json=body, headers=bearer(CRM))
        assert resp.status == 422, body
        error = (await resp.json())["error"]
        assert error["code"] == "invalid_body"
        assert error["message"].startswith(where), error
    resp = await client.post(url, data=b"{not json", headers=bearer(CRM))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_json"
    assert await store.transactions(CLUB) == []


async def test_reissue_publishes_the_stored_request_and_keeps_the_audit(
    store: CloudStore, client: Client, publisher: FakePublisher
) -> None:
    await seed_small_shift(store)
    url = f"/api/v1/clubs/{CLUB}/agents/{AGENT}/reissue/r4"
    resp = await client.post(url, json=ACTION, headers=bearer(SUPPORT))
    assert resp.status == 202
    assert (await resp.json()) == {"id": "r4", "status": "reissued"}
    assert len(publisher.sent) == 1
    topic, payload = publisher.sent[0]
    assert topic == receipt_topic(CLUB, AGENT) == f"fiscal/v1/{CLUB}/{AGENT}/cmd/receipt"
    sent = ReceiptRequest.model_validate(json.loads(payload))
    original = next(
        rec.request for rec in await store.requests(CLUB, AGENT) if rec.request.id == "r4"
    )
    assert sent == original
    audit = await store.audit(CLUB)
    assert [(a.action, a.target, a.role, a.by, a.reason) for a in audit] == [
        ("reissue", "r4", "support", "Ivan", ACTION["reason"])
    ]


async def test_reissue_refuses_what_it_cannot_send(
    store: CloudStore, client: Client, publisher: FakePublisher
) -> None:
    await seed_small_shift(store)
    base = f"/api/v1/clubs/{CLUB}/agents/{AGENT}/reissue"
    resp = await client.post(f"{base}/r1", json=ACTION, headers=bearer(CRM))
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "already_issued"
    resp = await client.post(f"{base}/nope", json=ACTION, headers=bearer(CRM))
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "unknown_request"
    resp = await client.post(f"{base}/r4", json={"by": "", "reason": "x"}, headers=bearer(CRM))
    assert resp.status == 422
    assert (await resp.json())["error"]["message"].startswith("by")
    publisher.down = True
    resp = await client.post(f"{base}/r4", json=ACTION, headers=bearer(CRM))
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "mqtt_unavailable"
    assert publisher.sent == []
    assert await store.audit(CLUB) == []


async def test_reissue_without_mqtt_is_503(store: CloudStore) -> None:
    await seed_small_shift(store)
    async with serve(store, auth=AUTH) as client:
        resp = await client.post(
            f"/api/v1/clubs/{CLUB}/agents/{AGENT}/reissue/r4", json=ACTION, headers=bearer(CRM)
        )
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "mqtt_unavailable"
    assert await store.audit(CLUB) == []


async def test_support_adopts_a_register_only_document_and_the_first_adoption_stays(
    store: CloudStore, client: Client
) -> None:
    await seed_small_shift(store)
    url = f"/api/v1/clubs/{CLUB}/agents/{AGENT}/adopt/{DOC}"
    resp = await client.post(
        url, json={"by": "Olga", "reason": "sold by hand"}, headers=bearer(SUPPORT)
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["adopted"]["by"] == "Olga"
    assert body["adopted"]["role"] == "support"
    resp = await client.post(url, json={"by": "Ivan", "reason": "again"}, headers=bearer(CRM))
    assert resp.status == 200
    assert (await resp.json())["adopted"]["by"] == "Olga"
    resp = await client.get(
        f"/api/v1/clubs/{CLUB}/reconciliation?agent={AGENT}&problems_only=1", headers=bearer(CRM)
    )
    rec = await resp.json()
    row = next(r for r in rec["rows"] if r["id"] == DOC)
    assert row["status"] == "register_only"
    assert row["adopted"]["by"] == "Olga"
    assert row["adopted"]["role"] == "support"
    assert rec["adopted_total"] == "350.00"
    audit = await store.audit(CLUB)
    assert [(a.action, a.role, a.by) for a in audit] == [("adopt", "support", "Olga")]
    resp = await client.post(
        f"/api/v1/clubs/{CLUB}/agents/{AGENT}/adopt/{FN}:999", json=ACTION, headers=bearer(CRM)
    )
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "unknown_document"


async def test_without_auth_every_caller_is_local(store: CloudStore) -> None:
    await seed_small_shift(store)
    async with serve(store) as client:
        resp = await client.get("/api/v1/agents")
        assert resp.status == 200
        resp = await client.post(f"/api/v1/clubs/{CLUB}/agents/{AGENT}/adopt/{DOC}", json=ACTION)
        assert resp.status == 200
        assert (await resp.json())["adopted"]["role"] == "local"


async def test_unknown_routes_answer_in_the_error_shape(client: Client) -> None:
    resp = await client.get("/api/v1/nothing", headers=bearer(CRM))
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"
    resp = await client.delete("/api/v1/agents", headers=bearer(CRM))
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "method_not_allowed"
