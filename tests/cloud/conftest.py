"""Fixtures of the cloud's tests: one throwaway PostgreSQL database, a fresh store URL of each kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import admin_sql, postgres_server, run_apart, throwaway_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One throwaway PostgreSQL database for the session (the admin database of the tests).

    The machine's server on 127.0.0.1:5432 when it answers, else a throwaway server where
    ``initdb`` exists, else the test is skipped with the reason.
    """
    with postgres_server() as server:
        if isinstance(server, str):
            pytest.skip(server)
        with throwaway_database(server) as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
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
