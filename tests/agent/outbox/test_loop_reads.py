"""Outbox reads from the event loop: at once when the file is free, in a thread when held."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from agent.outbox.loop_reads import read_on_loop
from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from tests.agent.outbox.test_store import FakeClock
from tests.support.receipts import goods_receipt


async def test_a_read_runs_on_the_loop_when_the_file_is_free(path: Path, clock: FakeClock) -> None:
    outbox = Outbox(path, clock=clock)
    try:
        outbox.submit_receipt("r-1", goods_receipt(), "fp-1")
        threads: list[threading.Thread] = []

        def read() -> object:
            threads.append(threading.current_thread())
            return outbox.next_pending()

        row = await read_on_loop(outbox, read)
        assert row is not None
        assert row.id == "r-1"
        assert row.state is RowState.PENDING
        assert threads == [threading.current_thread()]  # no hop
    finally:
        outbox.close()


async def test_a_read_goes_to_a_thread_while_another_thread_holds_the_file(
    path: Path, clock: FakeClock
) -> None:
    """A commit being fsynced in a thread never blocks the loop: the read waits in a thread."""
    outbox = Outbox(path, clock=clock)
    try:
        outbox.submit_receipt("r-1", goods_receipt(), "fp-1")
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with outbox.transaction():  # the write lock, as a commit holds it
                holding.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(5)
        threads: list[threading.Thread] = []

        def read() -> object:
            threads.append(threading.current_thread())
            return outbox.get("r-1")

        reading = asyncio.create_task(read_on_loop(outbox, read))
        await asyncio.sleep(0.05)  # the loop runs meanwhile
        assert not reading.done()  # the read waits for the file, in a thread
        release.set()
        row = await asyncio.wait_for(reading, 5)
        holder.join(5)
        assert row is not None
        assert row.id == "r-1"
        assert threads
        assert threads[0] is not threading.current_thread()
    finally:
        outbox.close()


def _ids(work: tuple[object, bool]) -> tuple[str | None, bool]:
    row, more = work
    return (getattr(row, "id", None), more)


def test_next_work_takes_a_printing_row_first_then_the_oldest_pending(
    path: Path, clock: FakeClock
) -> None:
    outbox = Outbox(path, clock=clock)
    try:
        assert _ids(outbox.next_work_and_more()) == (None, False)
        for row_id in ("a", "b", "c"):
            outbox.submit_receipt(row_id, goods_receipt(), f"fp-{row_id}")
        assert _ids(outbox.next_work_and_more()) == ("a", True)
        outbox.mark_printing("b", fn_serial="fn", last_fd=1)
        assert _ids(outbox.next_work_and_more()) == ("b", True), "printing before pending"
        outbox.mark_printing("c", fn_serial="fn", last_fd=1)
        assert _ids(outbox.next_work_and_more()) == ("b", True), "the older printing row"
        outbox.withdraw("a", message="gone")
        assert _ids(outbox.next_work_and_more()) == ("b", True), "c is printing behind it"
        outbox.release("b")
        outbox.release("c")
        outbox.withdraw("b", message="gone")
        assert _ids(outbox.next_work_and_more()) == ("c", False), "nothing behind the last"
    finally:
        outbox.close()
