"""The outbox's result listener: told of every row that reached a published state, after commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.outbox.orders import CashDirection, CashOrder
from agent.outbox.states import RowKind, RowState
from agent.outbox.store import Outbox
from tests.agent.outbox.test_store import FISCAL, FakeClock, _receipt


@pytest.fixture
def outbox(path: Path, clock: FakeClock) -> Iterator[Outbox]:
    box = Outbox(path, clock=clock)
    yield box
    box.close()


def test_listener_hears_each_published_state_once_and_nothing_else(outbox: Outbox) -> None:
    """done, rejected, failed, unknown (and unknown settled later) are heard; other moves not."""
    heard: list[tuple[RowKind, RowState]] = []
    outbox.add_result_listener(lambda kind, state: heard.append((kind, state)))
    for row_id in ("done", "rejected", "failed", "unknown"):
        outbox.submit_receipt(row_id, _receipt(), row_id)
    outbox.submit_cash("cash", CashOrder(direction=CashDirection.IN, amount=Kopecks(500)), "c")
    assert heard == []

    outbox.mark_printing("done", fn_serial=FISCAL.fn, last_fd=1)
    outbox.note_attempt("done", error_code="link_down", message="x")
    outbox.release("done")
    outbox.mark_printing("done", fn_serial=FISCAL.fn, last_fd=1)
    assert heard == []
    outbox.mark_done("done", fiscal=FISCAL)
    outbox.mark_rejected("rejected", code="invalid_argument", message="0x33")
    outbox.mark_failed("failed", code="retries_exhausted", message="gave up")
    outbox.mark_printing("unknown", fn_serial=FISCAL.fn, last_fd=1)
    outbox.mark_unknown("unknown", reason="cannot tell")
    outbox.mark_failed("unknown", code="settled", message="a person decided")
    outbox.mark_printing("cash", fn_serial=FISCAL.fn, last_fd=1, drawer=0)
    outbox.mark_rejected("cash", code="not_enough_cash", message="drawer")

    assert heard == [
        (RowKind.RECEIPT, RowState.DONE),
        (RowKind.RECEIPT, RowState.REJECTED),
        (RowKind.RECEIPT, RowState.FAILED),
        (RowKind.RECEIPT, RowState.UNKNOWN),
        (RowKind.RECEIPT, RowState.FAILED),
        (RowKind.CASH, RowState.REJECTED),
    ]


def test_listener_is_called_after_the_commit(outbox: Outbox, path: Path) -> None:
    """What the listener is told is already on disk: another connection sees it."""
    seen: list[str] = []

    def listener(_kind: RowKind, _state: RowState) -> None:
        other = sqlite3.connect(path)
        try:
            seen.append(other.execute("SELECT state FROM outbox WHERE id = 'a'").fetchone()[0])
        finally:
            other.close()

    outbox.add_result_listener(listener)
    outbox.submit_receipt("a", _receipt(), "a")
    outbox.mark_rejected("a", code="invalid_argument", message="0x33")
    assert seen == ["rejected"]
