"""The support page over a real SQLite store, with the API's seeded shift and fake publisher."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cloud.api import build_api
from cloud.store import CloudStore
from cloud.web import add_support_page
from tests.cloud.api.conftest import AUTH, CRM, SUPPORT, FakePublisher, publisher, sqlite_url, store
from tests.cloud.api.seed import fixed_clock

__all__ = [
    "AUTH",
    "CRM",
    "SUPPORT",
    "FakePublisher",
    "basic",
    "page",
    "publisher",
    "sqlite_url",
    "store",
]


def basic(user: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def page(store: CloudStore, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    """The cloud's app with the support page, as ``fiscal-cloud run`` builds it."""
    app = build_api(store, **kwargs)
    add_support_page(
        app,
        store,
        auth=kwargs.get("auth"),
        publisher=kwargs.get("publisher"),
        ofd_url_template=kwargs.get("ofd_url_template"),
        clock=fixed_clock,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
