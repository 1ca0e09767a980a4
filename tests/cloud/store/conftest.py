"""The store suite runs once over SQLite (a temporary file) and once over PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from cloud.store import CloudStore


class StepClock:
    """A clock that moves one second at every reading, the same under both databases."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def store_url(any_store_url: str) -> str:
    """An empty database of either kind (tests/cloud/conftest.py)."""
    return any_store_url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[CloudStore]:
    """An open store over a fresh database, on a stepping clock."""
    async with await CloudStore.open(store_url, clock=StepClock()) as opened:
        yield opened
