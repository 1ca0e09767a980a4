"""A full or read-only disk: the outbox refuses new requests clearly, keeps what it has, recovers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.outbox.orders import CashDirection, CashOrder
from agent.outbox.states import RowState
from agent.outbox.store import Outbox, StorageUnavailable, SubmissionStatus
from tests.support.small_disk import SmallDisk, small_disk


def _now() -> datetime:
    return datetime.now(UTC)


def _order(amount: int = 100) -> CashOrder:
    return CashOrder(direction=CashDirection.IN, amount=Kopecks(amount), comment="x" * 200)


def _until_refused(write: Callable[[int], object]) -> tuple[int, StorageUnavailable]:
    """Call ``write(n)`` until the disk refuses; the WAL may have a page or two of room left."""
    for n in range(1000):
        try:
            write(n)
        except StorageUnavailable as exc:
            return n, exc
    pytest.fail("the full disk took 1000 writes")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 1 MiB tmpfs for the outbox's file."""
    with small_disk(tmp_path / "state") as mounted:
        yield mounted


def test_store_full_disk_refuses_new_requests_and_keeps_the_stored_ones(disk: SmallDisk) -> None:
    """On a full disk a submit raises StorageUnavailable, stores nothing, and loses nothing."""
    outbox = Outbox(disk.path / "agent.sqlite3", clock=_now)
    try:
        assert outbox.submit_cash("kept-1", _order(), "f1").status is SubmissionStatus.ACCEPTED
        disk.fill()
        accepted, refusal = _until_refused(
            lambda n: outbox.submit_cash(f"new-{n}", _order(), f"n{n}")
        )
        assert refusal.public_code == "storage_unavailable"
        assert "free space" in str(refusal)
        kept = outbox.get("kept-1")
        assert kept is not None
        assert kept.state is RowState.PENDING
        refused = f"new-{accepted}"
        assert outbox.get(refused) is None  # nothing half-stored
        disk.free()
        again = outbox.submit_cash(refused, _order(), f"n{accepted}")
        assert again.status is SubmissionStatus.ACCEPTED
    finally:
        outbox.close()


def test_store_full_disk_fails_a_state_change_without_losing_the_row(disk: SmallDisk) -> None:
    """A transition that cannot be written leaves the row as it was, and works once freed."""
    outbox = Outbox(disk.path / "agent.sqlite3", clock=_now)
    try:
        outbox.submit_cash("c-1", _order(), "f")
        disk.fill()
        _until_refused(
            lambda _: outbox.note_attempt("c-1", error_code="x" * 50, message="y" * 2000)
        )
        row = outbox.get("c-1")
        assert row is not None
        assert row.state is RowState.PENDING
        disk.free()
        printing = outbox.mark_printing("c-1", fn_serial="1" * 16, last_fd=7, drawer=0)
        assert printing.state is RowState.PRINTING
    finally:
        outbox.close()


def test_store_read_only_disk_is_refused_clearly_and_the_file_is_kept(disk: SmallDisk) -> None:
    """A state directory that became read-only: opening says so plainly; rw again, all is there."""
    outbox = Outbox(disk.path / "agent.sqlite3", clock=_now)
    outbox.submit_cash("c-1", _order(), "f")
    outbox.close()
    disk.remount(read_only=True)
    try:
        with pytest.raises(StorageUnavailable) as info:
            Outbox(disk.path / "agent.sqlite3", clock=_now)
        assert "make it writable" in str(info.value)
    finally:
        disk.remount(read_only=False)
    reopened = Outbox(disk.path / "agent.sqlite3", clock=_now)
    try:
        row = reopened.get("c-1")
        assert row is not None
        assert row.state is RowState.PENDING
    finally:
        reopened.close()
