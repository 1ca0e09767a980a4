"""Fixtures for the whole suite."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

pytest_plugins = [
    "tests.support.broker",  # fixtures broker and broker_factory
    "tests.support.process_fixtures",  # fixtures start_sim and start_agent
    "tests.support.browser",  # fixture browser (headless chromium, or a skip)
    "tests.support.parallel",  # under pytest-xdist: long tests first, the heaviest one at a time
]


@pytest.fixture(autouse=True)
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves asyncio tasks running after it ends (docs/style.md §7)."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    leaked = [
        task
        for task in asyncio.all_tasks() - before
        if not task.done() and task is not asyncio.current_task()
    ]
    for task in leaked:
        task.cancel()
    assert not leaked, f"test leaked tasks: {[task.get_name() for task in leaked]}"


SOAK_ENV = "FISCAL_EDGE_SOAK"


PROPERTY_TIMEOUT_S = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak runs take many minutes: they run under ``make soak`` only (it sets FISCAL_EDGE_SOAK).

    A property test (hypothesis) runs its body for a hundred examples or more, so its time is
    that many times the body's and grows with the machine's load; the suite's 5 s timeout,
    a guard against a hang, would cut it off on a busy machine (seen on 2 cores shared by the
    parallel workers). One without a timeout of its own gets PROPERTY_TIMEOUT_S.
    """
    for item in items:
        function = getattr(item, "obj", None)
        if getattr(function, "is_hypothesis_test", False) and not item.get_closest_marker(
            "timeout"
        ):
            item.add_marker(pytest.mark.timeout(PROPERTY_TIMEOUT_S))
    if os.environ.get(SOAK_ENV):
        return
    skip = pytest.mark.skip(reason=f"a soak run: `make soak` runs it (sets {SOAK_ENV}=1)")
    for item in items:
        if item.get_closest_marker("soak"):
            item.add_marker(skip)
