"""The API over a real store: a SQLite file, or PostgreSQL where the tests have one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cloud.api import build_api
from cloud.config import AuthConfig
from cloud.store import CloudStore
from tests.cloud.api.seed import fixed_clock

CRM = "crm-token-0123456789abcdef"
SUPPORT = "support-token-0123456789abcdef"
AUTH = AuthConfig(crm_token=CRM, support_token=SUPPORT)


class FakePublisher:
    """An in-memory Publisher: keeps what it was asked to publish, or fails when told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.down = False

    async def publish(self, topic: str, payload: bytes) -> None:
        if self.down:
            raise ConnectionRefusedError("broker down")
        self.sent.append((topic, payload))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cloud.db'}"


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[CloudStore]:
    async with await CloudStore.open(sqlite_url, clock=fixed_clock) as opened:
        yield opened


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@asynccontextmanager
async def serve(store: CloudStore, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(build_api(store, **kwargs)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def client(
    store: CloudStore, publisher: FakePublisher
) -> AsyncIterator[TestClient[Any, Any]]:
    async with serve(store, auth=AUTH, publisher=publisher) as opened:
        yield opened


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Headers = Callable[[str], dict[str, str]]
