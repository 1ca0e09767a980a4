"""Reads of the outbox from the event loop without a thread hop when they cannot wait.

A read takes the outbox's lock like a write. Run in a thread (``asyncio.to_thread``) it
costs a hop there and back, about as much CPU as the read itself on a small board. When no
other thread holds the file, nothing can make the read wait (no commit, no fsync: a read in
WAL mode does not wait for another connection's writer), so it runs on the loop at once;
when a thread holds it (a commit being fsynced), the read goes to a thread as before and the
loop never blocks.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.outbox.store import Outbox

__all__ = ["read_on_loop"]

T = TypeVar("T")


async def read_on_loop(outbox: Outbox, read: Callable[[], T]) -> T:
    """``read()`` (a read-only method of ``outbox``): on the loop when the file is free."""
    with outbox.held_if_free() as is_free:
        if is_free:
            return read()
    return await asyncio.to_thread(read)
