"""The cyclic garbage collector held off while a large shift is read and reconciled.

A 100,000-row shift builds about half a million small objects (rows, records, tuples) that
all stay alive until the reconciliation is returned. CPython's collector runs every 700 new
container objects and, as long-lived objects pile up, walks all of them again and again: in
bench/cloud_ingest.py that was more than half of the store's read of the shift. None of these
objects form cycles, so reference counting frees them as ever; the collector is held off
for the read and the reconciliation, and when it is enabled again its young generation (all
that was built meanwhile) is collected at once, inside the paused operation and its timing:
that one pass is what the collector would have spent on those objects in any case (it runs
at the next allocation otherwise), the many passes in between are what is saved.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside; after, collect its young generation and enable it.

    Both only when it was enabled before, so nested or concurrent uses are safe: only the
    one that found it enabled collects and enables it again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.collect(0)
            gc.enable()
