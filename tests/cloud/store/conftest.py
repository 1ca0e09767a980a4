"""The store suite runs once over SQLite (a temporary file) and once over PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.store import CloudStore
from tests.support.postgres import admin_sql, postgres_server, run_apart, throwaway_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One throwaway PostgreSQL database for the session (the admin database of the tests)."""
    with postgres_server() as server:
        if isinstance(server, str):
            pytest.skip(server)
        with throwaway_database(server) as url:
            yield url


class StepClock:
    """A clock that moves one second at every reading, the same under both databases."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of either kind (PostgreSQL: one database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    base: str = request.getfixturevalue("postgres_database")
    name = f"t_{uuid.uuid4().hex[:16]}"
    run_apart(admin_sql(base, f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_apart(admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[CloudStore]:
    """An open store over a fresh database, on a stepping clock."""
    async with await CloudStore.open(store_url, clock=StepClock()) as opened:
        yield opened
