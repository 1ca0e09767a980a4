"""Fixtures: the driver over an in-memory link to the simulator's pure device and link."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.shtrih_rig import Rig, make_rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """A connected driver and its register, shift closed."""
    made = make_rig()
    await made.driver.connect()
    yield made
    await made.driver.aclose()


@pytest.fixture
async def slow_printer() -> AsyncIterator[Rig]:
    """A register that spends 0.15 s printing after every document."""
    made = make_rig(print_time_s=0.15)
    await made.driver.connect()
    yield made
    await made.driver.aclose()
