"""Nothing is lost: a store that is down, an ingest killed mid-load, two instances sharing work."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cloud.ingest import IngestSettings
from cloud.store import CloudStore
from tests.cloud.ingest.conftest import Publisher, eventually, running_ingest
from tests.cloud.store.samples import health, result
from tests.support.broker import Broker, BrokerFactory, require_mosquitto
from tests.support.postgres import admin_sql

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

T = "fiscal/v1/club-1/desk-1/"


def _results(prefix: str, n: int) -> list[tuple[str, bytes | str | dict[str, object]]]:
    return [
        (T + "evt/receipt", result(f"{prefix}-{i}", "done", fd=10_000 + i).model_dump_json())
        for i in range(n)
    ]


async def _ids(store: CloudStore) -> list[str]:
    return [r.result.id for r in await store.results("club-1")]


async def test_a_store_that_is_down_gets_nothing_acked_and_everything_later(
    broker: Broker,
    publisher: Publisher,
    new_postgres_url: Callable[[], str],
    postgres_database: str,
) -> None:
    url = new_postgres_url()
    name = url.rsplit("/", 1)[1]
    async with await CloudStore.open(url) as store:
        settings = IngestSettings(retry_min_s=0.05, retry_max_s=0.3)
        async with running_ingest(broker.url, store, settings=settings) as ingest:
            await admin_sql(postgres_database, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin_sql(
                postgres_database,
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",  # noqa: S608 - our own name
            )
            await publisher.send(_results("down", 30))

            async def failing() -> bool:
                return ingest.stats.store_failures >= 3

            await eventually(failing, timeout_s=20, what="the store failing")
            assert ingest.stats.acked == 0
            assert ingest.stats.stored == {}

            await admin_sql(postgres_database, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

            async def all_acked() -> bool:
                return ingest.stats.acked == 30

            await eventually(all_acked, timeout_s=30, what="every message acked after recovery")
            assert sorted(await _ids(store)) == sorted(f"down-{i}" for i in range(30))


def _start_ingest(
    broker: Broker, store_url: str, client_id: str, stats: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloud.ingest",
            "--mqtt",
            broker.url,
            "--store",
            store_url,
            "--client-id",
            client_id,
            "--batch-size",
            "50",
            "--stats-file",
            str(stats),
        ],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_ready(store: CloudStore, publisher: Publisher, seq: int) -> None:
    """Publish a health until the ingest stores it: then it is subscribed."""

    async def stored() -> bool:
        agents = await store.agents()
        return bool(agents) and agents[0].health.seq == seq

    for _ in range(100):
        await publisher.send([(T + "health", health(1, seq))])
        try:
            await eventually(stored, timeout_s=0.5, what="ready")
        except pytest.fail.Exception:
            continue
        return
    pytest.fail("the ingest subprocess never stored a health")


async def test_an_ingest_killed_mid_load_loses_nothing(
    broker: Broker, publisher: Publisher, tmp_path: Path
) -> None:
    require_mosquitto("the killed ingest's queued QoS 1 messages delivered after it", broker)
    store_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    n = 3000
    async with await CloudStore.open(store_url) as store:
        first = _start_ingest(broker, store_url, "cloud-kill", tmp_path / "stats1.json")
        try:
            await _wait_ready(store, publisher, 1)
            sending = asyncio.create_task(publisher.send(_results("load", n)))

            async def some_in() -> bool:
                return len(await store.results("club-1")) >= 200

            await eventually(some_in, timeout_s=30, what="some of the load stored")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            await sending
            stored_when_killed = len(await store.results("club-1"))
            assert stored_when_killed < n, "the kill came too late to test anything"
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(10)

        second = _start_ingest(broker, store_url, "cloud-kill", tmp_path / "stats2.json")
        try:

            async def all_in() -> bool:
                return len(await store.results("club-1")) == n

            await eventually(all_in, timeout_s=60, what="the whole load stored after restart")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0
        assert sorted(await _ids(store)) == sorted(f"load-{i}" for i in range(n))
        stats = json.loads((tmp_path / "stats2.json").read_text())
        assert stats["stored"]["evt/receipt"] >= n - stored_when_killed
        assert stats["malformed"] == {}


async def test_two_instances_share_the_load_and_store_each_message_once(
    broker: Broker, publisher: Publisher, new_postgres_url: Callable[[], str]
) -> None:
    require_mosquitto("MQTT 5 shared subscriptions ($share)", broker)
    url = new_postgres_url()
    n = 600
    async with (
        await CloudStore.open(url) as store_a,
        await CloudStore.open(url) as store_b,
        running_ingest(broker.url, store_a, client_id="cloud-a") as a,
        running_ingest(broker.url, store_b, client_id="cloud-b") as b,
    ):
        await publisher.send(_results("shared", n))

        async def all_acked() -> bool:
            return a.stats.acked + b.stats.acked == n

        await eventually(all_acked, timeout_s=60, what="every message acked by one of the two")
        ids = await _ids(store_a)
        assert sorted(ids) == sorted(f"shared-{i}" for i in range(n))
        per_instance = (a.stats.stored["evt/receipt"], b.stats.stored["evt/receipt"])
        assert sum(per_instance) == n, per_instance  # each message went to one instance
        assert min(per_instance) > 0, per_instance  # and both did work


async def test_a_3_1_1_broker_gets_plain_subscriptions(
    broker_factory: BrokerFactory, tmp_path: Path
) -> None:
    broker = broker_factory(kind="amqtt")
    publisher = Publisher(broker.url)
    try:
        async with (
            await CloudStore.open(f"sqlite:///{tmp_path / 'c.db'}") as store,
            running_ingest(broker.url, store) as ingest,
        ):
            assert ingest._link.protocol.value == "3.1.1"
            await publisher.send(_results("old", 5))

            async def all_in() -> bool:
                return len(await store.results("club-1")) == 5

            await eventually(all_in, timeout_s=20, what="stored through a 3.1.1 broker")
    finally:
        publisher.client.close()
