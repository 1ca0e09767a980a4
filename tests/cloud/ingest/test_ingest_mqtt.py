"""The ingest against a real Mosquitto: stored once, acknowledged after commit, never stopped."""

from __future__ import annotations

import json

import pytest

from agent.contract import ReceiptResult
from cloud.ingest import MAX_PAYLOAD_BYTES, IngestSettings
from cloud.store import CloudStore
from tests.cloud.ingest.conftest import Publisher, eventually, running_ingest
from tests.cloud.store.samples import document, health, report, request, result
from tests.support.broker import Broker

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

T = "fiscal/v1/club-1/desk-1/"
T2 = "fiscal/v1/club-2/bar-7/"


def _events(n: int) -> list[tuple[str, bytes | str | dict[str, object]]]:
    messages: list[tuple[str, bytes | str | dict[str, object]]] = []
    for i in range(n):
        topic = T if i % 2 else T2
        messages.append((topic + "cmd/receipt", request(f"crm-{i}").model_dump_json()))
        messages.append(
            (topic + "evt/receipt", result(f"crm-{i}", "done", fd=1000 + i).model_dump_json())
        )
    messages += [(T + "evt/document", document(fd).model_dump_json()) for fd in (5001, 5002, 5003)]
    messages += [(T + "evt/shift", report(kind).model_dump_json()) for kind in ("open", "z")]
    messages.append((T + "health", health(1, 1)))
    return messages


async def _counts(store: CloudStore) -> tuple[int, int, int, int, int]:
    requests = len(await store.requests("club-1")) + len(await store.requests("club-2"))
    results = len(await store.results("club-1")) + len(await store.results("club-2"))
    return (
        requests,
        results,
        len(await store.documents("club-1")),
        len(await store.shift_reports("club-1", "desk-1")),
        len(await store.agents()),
    )


async def test_events_land_in_the_store_once_and_a_redelivery_changes_nothing(
    broker: Broker, publisher: Publisher, store: CloudStore
) -> None:
    messages = _events(40)
    async with running_ingest(broker.url, store) as ingest:
        await publisher.send(messages)

        async def all_in() -> bool:
            return await _counts(store) == (40, 40, 3, 2, 1)

        await eventually(all_in, timeout_s=20, what="every event stored")
        await eventually(
            lambda: _true(ingest.stats.acked == len(messages)), timeout_s=5, what="all acked"
        )
        results = {r.result.id: r.result for r in await store.results("club-1")}
        assert results["crm-1"] == ReceiptResult.model_validate_json(messages[3][1])  # type: ignore[arg-type]
        before = await store.results("club-1")

        # The same messages again, as a broker redelivers them, then one new marker.
        await publisher.send(
            [*messages, (T + "evt/receipt", result("marker", "failed").model_dump_json())]
        )
        marker_seen = lambda: _has_result(store, "marker")  # noqa: E731
        await eventually(marker_seen, timeout_s=20, what="the marker stored")
        assert await _counts(store) == (40, 41, 3, 2, 1)
        after = {r.result.id: r for r in await store.results("club-1")}
        assert all(after[r.result.id] == r for r in before)
        assert ingest.stats.malformed == {}
        assert ingest.stats.stored["evt/receipt"] == 81  # 40 + 40 copies + the marker


async def _true(value: bool) -> bool:
    return value


async def _has_result(store: CloudStore, request_id: str) -> bool:
    return any(r.result.id == request_id for r in await store.results("club-1"))


async def test_malformed_events_are_counted_acked_and_ingest_goes_on(
    broker: Broker, publisher: Publisher, tmp_path: object
) -> None:
    from pathlib import Path  # noqa: PLC0415

    assert isinstance(tmp_path, Path)
    async with await CloudStore.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        bad: list[tuple[str, bytes | str | dict[str, object]]] = [
            (T + "evt/receipt", b"{not json"),
            (T + "evt/receipt", b"[1, 2, 3]"),
            (T + "evt/receipt", {"id": "x", "status": "no-such"}),
            (T + "evt/document", {"fn": 5}),
            (T + "cmd/receipt", json.loads(request("crm-x").model_dump_json()) | {"surprise": 1}),
            (T + "evt/nonsense", {"id": "x"}),
            (T + "evt/receipt", b" " * MAX_PAYLOAD_BYTES),
            (T + "health", {"state": "online", "boot": "seven"}),
        ]
        good = (T + "evt/receipt", result("after-bad", "done", fd=7).model_dump_json())
        async with running_ingest(broker.url, store) as ingest:
            await publisher.send([*bad, good])
            await eventually(lambda: _has_result(store, "after-bad"), timeout_s=20, what="stored")
            await eventually(
                lambda: _true(ingest.stats.acked == len(bad) + 1), timeout_s=5, what="all acked"
            )
            assert ingest.stats.malformed == {
                "not_json": 1,
                "not_an_object": 1,
                "invalid": 4,
                "foreign_topic": 1,
                "too_large": 1,
            }
            assert [r.result.id for r in await store.results("club-1")] == ["after-bad"]
            assert await store.requests("club-1") == []


async def test_command_outcomes_and_rejections_are_counted_not_stored(
    broker: Broker, publisher: Publisher, store: CloudStore
) -> None:
    outcome = {"id": "shift-1", "status": "done"}
    rejected = {
        "topic": T + "cmd/receipt",
        "code": "bad_json",
        "message": "the payload is not JSON",
        "at": "2026-01-05T12:00:00+00:00",
    }
    async with running_ingest(broker.url, store) as ingest:
        await publisher.send([(T + "evt/command", outcome), (T + "evt/rejected", rejected)])
        await eventually(lambda: _true(ingest.stats.acked == 2), timeout_s=20, what="acked")
        assert ingest.stats.malformed == {}, ingest.stats.malformed
        assert ingest.stats.not_stored == {"evt/command": 1, "evt/rejected": 1}


async def test_a_late_will_does_not_override_a_newer_health(
    broker: Broker, publisher: Publisher, store: CloudStore
) -> None:
    async with running_ingest(broker.url, store, settings=IngestSettings(batch_size=1)) as ingest:
        await publisher.send(
            [
                (T + "health", health(2, 5)),
                (T + "health", {"state": "offline", "boot": 1}),  # boot 1's will, arriving late
                (T + "health", health(2, 4, "degraded")),  # older than seq 5
            ]
        )
        await eventually(lambda: _true(ingest.stats.acked == 3), timeout_s=20, what="acked")
        [agent] = await store.agents()
        assert (agent.health.state, agent.health.boot, agent.health.seq) == ("online", 2, 5)

        await publisher.send([(T + "health", {"state": "offline", "boot": 2})])  # boot 2's will
        await eventually(lambda: _true(ingest.stats.acked == 4), timeout_s=20, what="acked")
        [agent] = await store.agents()
        assert (agent.health.state, agent.health.boot) == ("offline", 2)
