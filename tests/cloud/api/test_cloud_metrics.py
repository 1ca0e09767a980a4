"""The cloud's GET /metrics over a real broker and ingest: what was stored, refused, batched,
and the agents by the state of their newest health; behind the same tokens as every read."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cloud.ingest import Ingest, IngestSettings, ingest_link_settings
from cloud.metrics import CloudMetrics
from cloud.store import CloudStore
from mqtt_link import LinkSettings, MqttLink
from tests.cloud.api.conftest import AUTH, CRM, SUPPORT, bearer, serve
from tests.cloud.api.seed import done
from tests.cloud.ingest.conftest import eventually
from tests.support.mqtt_client import PlainClient

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@contextlib.asynccontextmanager
async def cloud_with_ingest(url: str, store: CloudStore) -> AsyncIterator[TestClient[Any, Any]]:
    """The ingest feeding the metrics, and the API serving them, as cloud.app wires them."""
    link = MqttLink(
        ingest_link_settings(
            LinkSettings(url=url, client_id=f"cloud-{uuid.uuid4().hex[:8]}", backoff_min_s=0.1)
        )
    )
    metrics = CloudMetrics(store)
    ingest = Ingest(link, store, IngestSettings(), on_batch=metrics.batch_committed)
    metrics.watch_ingest(ingest.stats, connected=lambda: link.is_connected)
    tasks = [asyncio.create_task(link.run()), asyncio.create_task(ingest.run())]
    try:
        await link.wait_connected(10)
        async with serve(store, auth=AUTH, metrics=metrics) as client:
            yield client
    finally:
        await link.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def scrape(client: TestClient[Any, Any], token: str = SUPPORT) -> Samples:
    resp = await client.get("/metrics", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(await resp.text())


async def test_metrics_count_what_the_ingest_stored_and_refused(
    broker: Any, store: CloudStore
) -> None:
    sender = PlainClient(broker.url, "sender", subscribe=("tests/none",)).connect()
    try:
        async with cloud_with_ingest(broker.url, store) as client:
            await asyncio.to_thread(
                sender.publish,
                "fiscal/v1/club-1/desk-1/evt/receipt",
                done("r1", 101, 15000).model_dump_json(exclude_none=True),
            )
            await asyncio.to_thread(sender.publish, "fiscal/v1/club-1/desk-1/evt/receipt", b"{no")
            await asyncio.to_thread(
                sender.publish, "fiscal/v1/club-1/desk-1/health", {"state": "online", "boot": 1}
            )
            await asyncio.to_thread(
                sender.publish, "fiscal/v1/club-1/desk-2/health", {"state": "offline", "boot": 3}
            )

            async def all_in() -> bool:
                got = await scrape(client)
                return (
                    got.get(("fiscal_cloud_ingest_stored_messages_total", (("kind", "health"),)))
                    == 2
                    and got.get(
                        ("fiscal_cloud_ingest_malformed_messages_total", (("reason", "not_json"),))
                    )
                    == 1
                )

            await eventually(all_in, timeout_s=10, what="four messages counted")
            got = await scrape(client, CRM)
    finally:
        sender.close()
    assert got[("fiscal_cloud_ingest_stored_messages_total", (("kind", "evt/receipt"),))] == 1
    assert got[("fiscal_cloud_ingest_stored_messages_total", (("kind", "evt/shift"),))] == 0
    assert got[("fiscal_cloud_ingest_malformed_messages_total", (("reason", "invalid"),))] == 0
    assert got[("fiscal_cloud_ingest_store_failures_total", ())] == 0
    batches = got[("fiscal_cloud_ingest_batches_total", ())]
    assert 1 <= batches <= 4
    assert got[("fiscal_cloud_ingest_batch_age_seconds_count", ())] == batches
    assert 0 < got[("fiscal_cloud_ingest_batch_age_seconds_sum", ())] < 10
    assert got[("fiscal_cloud_agents", (("state", "online"),))] == 1
    assert got[("fiscal_cloud_agents", (("state", "offline"),))] == 1
    assert got[("fiscal_cloud_agents", (("state", "degraded"),))] == 0
    assert got[("fiscal_cloud_broker_connected", ())] == 1


async def test_the_broker_connected_gauge_falls_when_the_broker_goes(
    broker: Any, store: CloudStore
) -> None:
    async with cloud_with_ingest(broker.url, store) as client:
        assert (await scrape(client))[("fiscal_cloud_broker_connected", ())] == 1
        broker.stop()

        async def down() -> bool:
            return (await scrape(client))[("fiscal_cloud_broker_connected", ())] == 0

        await eventually(down, timeout_s=20, what="the gauge to fall to 0")
        broker.start()

        async def back() -> bool:
            return (await scrape(client))[("fiscal_cloud_broker_connected", ())] == 1

        await eventually(back, timeout_s=30, what="the gauge back at 1")


async def test_metrics_need_a_token_and_without_an_ingest_show_the_agents_only(
    store: CloudStore,
) -> None:
    async with serve(store, auth=AUTH) as client:
        resp = await client.get("/metrics")
        assert resp.status == 401
        got = await scrape(client)
    assert got[("fiscal_cloud_agents", (("state", "online"),))] == 0
    assert not any(name.startswith("fiscal_cloud_ingest_stored") for name, _ in got)
