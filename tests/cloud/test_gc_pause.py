"""The cyclic collector is held off inside gc_paused and left as it was found after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cloud.gc_pause import gc_paused


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_a_nested_pause_leaves_it_off_until_the_outer_one_ends() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_what_was_built_inside_is_collected_once_as_it_ends() -> None:
    """The young generation is collected as the pause ends (gen 0 count back to about 0)."""
    gc.collect()
    with gc_paused():
        kept = [[index] for index in range(5_000)]
        assert gc.get_count()[0] >= 5_000
    assert gc.get_count()[0] < 100
    assert len(kept) == 5_000


@pytest.mark.usefixtures("collector_enabled")
def test_it_is_on_again_after_an_exception() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
