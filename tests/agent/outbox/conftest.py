"""Fixtures of the outbox's tests: a clock the test moves, a state file's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.outbox.test_store import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the outbox's SQLite file goes (its folder does not exist yet)."""
    return tmp_path / "state" / "agent.sqlite3"
