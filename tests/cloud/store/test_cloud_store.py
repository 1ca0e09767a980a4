"""CloudStore over SQLite and PostgreSQL: idempotent batches, the replacement rules, health order.

Every test runs under both databases (conftest.py); the last one writes the same script to both
and compares every read.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cloud.store import CloudStore, StoreTooNew, StoreUrlError, Transaction
from cloud.store.engine import async_url
from tests.cloud.store.conftest import StepClock
from tests.cloud.store.samples import document, health, report, request, result, will

pytestmark = pytest.mark.timeout(60)

C, A = "club-1", "desk-1"


async def test_redelivered_batches_change_nothing(store: CloudStore) -> None:
    requests = [request(f"r{i}") for i in range(3)]
    results = [result("r0", "done", fd=1), result("r1", "failed"), result("r2", "pending")]
    docs = [document(900), document(901)]
    reports = [report("open"), report("z")]
    txs = [Transaction(id="app-1", amount=Decimal("99.50"), kind="sale", at=_at())]

    async def write_all() -> None:
        await store.record_requests(C, A, requests)
        await store.record_results(C, A, results)
        await store.record_documents(C, A, docs)
        await store.record_shift_reports(C, A, reports)
        await store.record_transactions(C, txs)

    await write_all()
    first = await _snapshot(store)
    await write_all()
    assert await _snapshot(store) == first
    assert [r.request.id for r in first["requests"]] == ["r0", "r1", "r2"]
    assert [r.result.status for r in first["results"]] == ["done", "failed", "pending"]
    assert first["transactions"] == txs


async def test_one_batch_of_many_agents_is_written_as_their_own_batches_would_be(
    store: CloudStore,
) -> None:
    """record_batch (the ingest's one transaction) keeps each agent's rows and the same rules."""
    agents = [("club-1", "desk-1"), ("club-1", "desk-2"), ("club-2", "desk-1")]
    requests = {key: [request(f"{key[0]}-{key[1]}-r{i}") for i in range(2)] for key in agents}
    results = {
        key: [
            result(f"{key[0]}-{key[1]}-r0", "done", fd=n + 1),
            result(f"{key[0]}-{key[1]}-r1", "failed"),
        ]
        for n, key in enumerate(agents)
    }
    await store.record_batch(
        requests=requests,
        results=results,
        documents={agents[0]: [document(900)]},
        shift_reports={agents[2]: [report("open")]},
    )
    await store.record_batch(results=results)  # a redelivery changes nothing
    later = {
        agents[0]: [result("club-1-desk-1-r0", "failed"), result("club-1-desk-1-r1", "done", fd=50)]
    }
    await store.record_batch(results=later)  # a done one stays; a failed one is replaced
    for club, agent in agents:
        got = await store.results(club, agent)
        assert [r.result.id for r in got] == [f"{club}-{agent}-r0", f"{club}-{agent}-r1"]
        assert [r.request.id for r in await store.requests(club, agent)] == [
            f"{club}-{agent}-r0",
            f"{club}-{agent}-r1",
        ]
    first = await store.results("club-1", "desk-1")
    assert [r.result.status for r in first] == ["done", "done"]
    assert [r.result.status for r in await store.results("club-2", "desk-1")] == ["done", "failed"]
    assert [d.document.fd for d in await store.documents("club-1", "desk-1")] == [900]
    assert [r.report.kind for r in await store.shift_reports("club-2", "desk-1")] == ["open"]
    assert await store.shift_reports("club-1", "desk-1") == []


async def test_a_later_result_replaces_a_non_final_one_never_a_done_one(store: CloudStore) -> None:
    for status in ("pending", "printing", "unknown", "failed"):
        rid = f"id-{status}"
        await store.record_results(C, A, [result(rid, status)])
        await store.record_results(C, A, [result(rid, "done", fd=hash(status) % 1000 + 1)])
    assert {r.result.id: r.result.status for r in await store.results(C)} == {
        "id-pending": "done",
        "id-printing": "done",
        "id-unknown": "done",
        "id-failed": "done",
    }

    await store.record_results(C, A, [result("x", "done", fd=7)])
    await store.record_results(C, A, [result("x", "failed")])
    await store.record_results(C, A, [result("x", "done", fd=8)])
    await store.record_results(C, A, [result("y", "rejected"), result("y", "failed")])
    by_id = {r.result.id: r.result for r in await store.results(C)}
    assert by_id["x"].status == "done"
    assert by_id["x"].fiscal is not None
    assert by_id["x"].fiscal.fd == 7
    assert by_id["y"].status == "rejected"

    # Within one batch the same rules hold: failed then done is done.
    await store.record_results(C, A, [result("z", "failed"), result("z", "done", fd=9)])
    assert {r.result.id: r.result.status for r in await store.results(C, shift=12)}["z"] == "done"


async def test_a_document_is_stored_once_by_fn_and_fd(store: CloudStore) -> None:
    await store.record_documents(C, A, [document(500, kopecks=100), document(500, kopecks=200)])
    await store.record_documents(C, "desk-2", [document(500, kopecks=300), document(501)])
    docs = await store.documents(C)
    assert [(d.agent, d.document.fd, d.document.total) for d in docs] == [
        (A, 500, Decimal("1.00")),
        ("desk-2", 501, Decimal("350.00")),
    ]
    assert [d.document.fd for d in await store.documents(C, agent="desk-2", shift=12)] == [501]
    assert await store.documents(C, shift=13) == []


async def test_an_x_report_keeps_the_furthest_open_and_z_keep_the_first(store: CloudStore) -> None:
    await store.record_shift_reports(C, A, [report("open", count=0), report("x", last_fd=10)])
    await store.record_shift_reports(C, A, [report("x", last_fd=20, count=6)])
    await store.record_shift_reports(C, A, [report("x", last_fd=15, count=9)])  # late, older
    await store.record_shift_reports(C, A, [report("z", last_fd=30), report("z", last_fd=31)])
    await store.record_shift_reports(C, A, [report("z", last_fd=40)])
    stored = {r.report.kind: r.report for r in await store.shift_reports(C, A, shift=12)}
    assert stored["x"].counters.last_fd == 20
    assert stored["x"].counters.sales.count == 6
    assert stored["z"].counters.last_fd == 30
    assert await store.shift_reports(C, A, shift=11) == []


async def test_health_is_ordered_by_boot_and_seq_with_a_late_will(store: CloudStore) -> None:
    assert await store.record_health(C, A, health(7, 5))
    assert not await store.record_health(C, A, health(7, 4))  # older
    assert not await store.record_health(C, A, health(7, 5))  # redelivered
    assert await store.record_health(C, A, will(7))  # newer than every health of boot 7 seen
    assert not await store.record_health(C, A, will(7))  # redelivered will
    assert not await store.record_health(C, A, health(7, 5))  # seen before the will
    assert not await store.record_health(C, A, health(7, 3))
    assert await _state(store) == "offline"
    assert await store.record_health(C, A, health(7, 6, "degraded"))  # higher seq, same boot
    assert await _state(store) == "degraded"
    assert not await store.record_health(C, A, will(6))  # an earlier boot's will, late
    assert await store.record_health(C, A, health(8, 0))  # a later boot
    assert not await store.record_health(C, A, will(7))  # boot 7's will, after boot 8 began
    assert not await store.record_health(C, A, health(7, 99))
    assert await store.record_health(C, A, will(8))  # boot 8's will...
    assert await store.record_health(C, A, health(9, 0))  # ...then boot 9 starts
    assert await _state(store) == "online"
    assert await store.health_history(C, A) == [
        (None, "online", 7, 5),
        ("online", "offline", 7, None),
        ("offline", "degraded", 7, 6),
        ("degraded", "online", 8, 0),
        ("online", "offline", 8, None),
        ("offline", "online", 9, 0),
    ]
    (agent,) = await store.agents()
    assert (agent.club, agent.agent, agent.health.boot, agent.health.seq) == (C, A, 9, 0)


async def test_a_will_before_any_health_of_its_boot(store: CloudStore) -> None:
    assert await store.record_health(C, A, health(3, 10))
    assert await store.record_health(C, A, will(4))  # boot 4 died before its first health
    assert await store.record_health(C, A, health(4, 0))  # ...which then arrives late
    assert await _state(store) == "online"


async def test_batches_of_a_thousand_rows(store: CloudStore) -> None:
    n = 1000
    await store.record_requests(C, A, [request(f"b{i}", 100 + i) for i in range(n)])
    await store.record_results(C, A, [result(f"b{i}", "pending") for i in range(n)])
    await store.record_results(C, A, [result(f"b{i}", "done", fd=i + 1) for i in range(n)])
    await store.record_documents(C, A, [document(10_000 + i) for i in range(n)])
    await store.record_transactions(
        C, [Transaction(id=f"t{i}", amount=Decimal(i), kind="sale", at=_at()) for i in range(n)]
    )
    assert len(await store.requests(C, A)) == n
    stored = await store.results(C, A)
    assert len(stored) == n
    assert {r.result.status for r in stored} == {"done"}
    assert len(await store.documents(C)) == n
    assert len(await store.transactions(C)) == n


async def test_adoption_and_reissue_are_audited(store: CloudStore) -> None:
    await store.record_documents(C, A, [document(700)])
    doc_id = "9289000100346765:700"
    first = await store.adopt_document(C, A, doc_id, role="support", by="Anna", reason="cafe")
    again = await store.adopt_document(C, A, doc_id, role="crm", by="Bob", reason="dup")
    assert first is not None
    assert again == first
    assert await store.adopt_document(C, A, "nope:1", role="crm", by="x", reason="y") is None
    (doc,) = await store.documents(C)
    assert doc.adoption == first
    await store.record_reissue(C, A, "r9", role="crm", by="CRM", reason="crm_only")
    assert [(a.action, a.target, a.role, a.by) for a in await store.audit(C)] == [
        ("adopt", doc_id, "support", "Anna"),
        ("reissue", "r9", "crm", "CRM"),
    ]


async def test_reopen_keeps_the_data_and_a_newer_schema_is_refused(store_url: str) -> None:
    async with await CloudStore.open(store_url) as store:
        await store.record_requests(C, A, [request("keep")])
    async with await CloudStore.open(store_url) as store:
        assert [r.request.id for r in await store.requests(C)] == ["keep"]
        async with store._engine.begin() as conn:  # a newer cloud migrated it
            await conn.exec_driver_sql("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreTooNew):
        await CloudStore.open(store_url)


def test_an_unknown_url_is_refused() -> None:
    with pytest.raises(StoreUrlError) as caught:
        async_url("mysql://u@h/db")
    assert caught.value.public_code == "store_url"


async def test_both_databases_give_identical_reads(
    request: pytest.FixtureRequest, tmp_path: Path, store_url: str
) -> None:
    if "sqlite" in store_url:
        pytest.skip("compared once, from the postgresql run")
    snapshots = []
    for url in (f"sqlite:///{tmp_path / 'same.db'}", store_url):
        async with await CloudStore.open(url, clock=StepClock()) as store:
            await _script(store)
            snapshots.append(await _snapshot(store))
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["results"]) == 4


async def _script(store: CloudStore) -> None:
    await store.record_requests(C, A, [request(f"s{i}", 1000 * (i + 1)) for i in range(4)])
    await store.record_requests("club-2", "desk-9", [request("other")])
    await store.record_results(C, A, [result("s0", "done", fd=1), result("s1", "pending")])
    await store.record_results(C, A, [result("s1", "done", fd=2), result("s2", "failed")])
    await store.record_results(C, A, [result("s3", "rejected"), result("s0", "failed")])
    await store.record_documents(C, A, [document(3), document(4, shift=13)])
    await store.record_shift_reports(C, A, [report("open"), report("x", last_fd=2)])
    await store.record_shift_reports(C, A, [report("x", last_fd=4), report("z", last_fd=4)])
    await store.record_transactions(
        C, [Transaction(id="app", amount=Decimal("10.10"), kind="refund", at=_at())]
    )
    await store.record_health(C, A, health(1, 1))
    await store.record_health(C, A, will(1))
    await store.record_health("club-2", "desk-9", health(2, 0, "degraded"))
    await store.adopt_document(C, A, "9289000100346765:3", role="crm", by="CRM", reason="ok")


async def _snapshot(store: CloudStore) -> dict[str, Any]:
    return {
        "agents": await store.agents(),
        "requests": await store.requests(C),
        "requests_a": await store.requests(C, A),
        "results": await store.results(C),
        "results_12": await store.results(C, A, 12),
        "documents": await store.documents(C),
        "documents_13": await store.documents(C, A, 13),
        "reports": await store.shift_reports(C, A),
        "transactions": await store.transactions(C),
        "audit": await store.audit(C),
        "history": await store.health_history(C, A),
    }


async def _state(store: CloudStore) -> str:
    (agent,) = await store.agents()
    return agent.health.state


def _at() -> datetime:
    return datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


async def test_two_instances_on_one_database_keep_the_newest_health(store_url: str) -> None:
    # Two cloud instances open a fresh database at once (both migrate), then race healths.
    first, second = await asyncio.gather(CloudStore.open(store_url), CloudStore.open(store_url))
    try:
        healths = [health(5, seq) for seq in range(40)]
        random.Random(7).shuffle(healths)
        await asyncio.gather(
            *(
                (first if i % 2 else second).record_health(C, A, body)
                for i, body in enumerate(healths)
            )
        )
        (agent,) = await first.agents()
        assert (agent.health.boot, agent.health.seq) == (5, 39)
        # One state change: the first health stored; the rest only moved (boot, seq) on.
        (change,) = await second.health_history(C, A)
        assert change[:3] == (None, "online", 5)
    finally:
        await first.close()
        await second.close()


async def test_an_agent_without_boot_and_seq_is_taken_in_arrival_order(store: CloudStore) -> None:
    assert await store.record_health(C, A, {"state": "online", "version": "0.1.0"})
    assert await store.record_health(C, A, {"state": "offline"})  # its will
    assert await store.record_health(C, A, {"state": "degraded"})
    assert await _state(store) == "degraded"
    assert await store.record_health(C, A, health(1, 0))  # upgraded to v1.1
    assert not await store.record_health(C, A, will(0))
    assert [change[:2] for change in await store.health_history(C, A)] == [
        (None, "online"),
        ("online", "offline"),
        ("offline", "degraded"),
        ("degraded", "online"),
    ]
