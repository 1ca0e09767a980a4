"""Fixtures of the ingest tests: a store over SQLite or PostgreSQL, a publisher, a running ingest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloud.ingest import Ingest, IngestSettings, ingest_link_settings
from cloud.store import CloudStore
from mqtt_link import LinkSettings, MqttLink
from tests.support.mqtt_client import PlainClient
from tests.support.postgres import admin_sql, run_apart


@pytest.fixture
def new_postgres_url(postgres_database: str) -> Iterator[Callable[[], str]]:
    """Make fresh PostgreSQL databases; all are dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        run_apart(admin_sql(postgres_database, f'CREATE DATABASE "{name}"'))
        made.append(name)
        return postgres_database.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for name in made:
        run_apart(admin_sql(postgres_database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of either kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cloud.db'}"
    make: Callable[[], str] = request.getfixturevalue("new_postgres_url")
    return make()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[CloudStore]:
    async with await CloudStore.open(store_url) as opened:
        yield opened


class Publisher:
    """A plain paho client (MQTT 3.1.1) publishing at QoS 1, off the event loop's thread."""

    def __init__(self, url: str) -> None:
        self.client = PlainClient(url, f"pub-{uuid.uuid4().hex[:8]}", subscribe=("tests/none",))
        self.client.connect()

    async def send(self, messages: list[tuple[str, bytes | str | dict[str, Any]]]) -> None:
        def publish_all() -> None:
            infos = []
            for topic, payload in messages:
                body = json.dumps(payload) if isinstance(payload, dict) else payload
                infos.append(self.client.client.publish(topic, body, qos=1))
            for info in infos:
                info.wait_for_publish(timeout=30)

        await asyncio.to_thread(publish_all)


@pytest.fixture
def publisher(broker: Any) -> Iterator[Publisher]:
    made = Publisher(broker.url)
    yield made
    made.client.close()


@contextlib.asynccontextmanager
async def running_ingest(
    url: str,
    store: CloudStore,
    *,
    client_id: str | None = None,
    settings: IngestSettings | None = None,
) -> AsyncIterator[Ingest]:
    """An Ingest on its own link, connected and subscribed; stopped at the end."""
    link_settings = LinkSettings(
        url=url,
        client_id=client_id or f"cloud-{uuid.uuid4().hex[:8]}",
        backoff_min_s=0.1,
        backoff_max_s=1.0,
    )
    link = MqttLink(ingest_link_settings(link_settings))
    ingest = Ingest(link, store, settings or IngestSettings(retry_min_s=0.05, retry_max_s=0.5))
    link_task = asyncio.create_task(link.run(), name="test-ingest-link")
    ingest_task = asyncio.create_task(ingest.run(), name="test-ingest")
    try:
        await link.wait_connected(10)
        yield ingest
    finally:
        await link.stop()
        ingest_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ingest_task
        await link_task


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str) -> None:
    """Poll ``check`` until it is true, or fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.05)
