"""Outbox.withdraw: a pending row is failed and never printed; a printing row is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.domain.receipt import VatRate
from agent.outbox.states import IllegalTransition, RowState
from agent.outbox.store import Outbox, SubmissionStatus
from tests.agent.outbox.test_store import FakeClock
from tests.support.receipts import goods_receipt


@pytest.fixture
def outbox(path: Path, clock: FakeClock) -> Iterator[Outbox]:
    box = Outbox(path, clock=clock, max_pending=5, retention=timedelta(days=90))
    yield box
    box.close()


def test_pending_row_is_withdrawn_and_cannot_be_taken_to_print(outbox: Outbox) -> None:
    receipt = goods_receipt((15000, VatRate.NONE))
    outbox.submit_receipt("kkm-1", receipt, "f1")
    row = outbox.withdraw("kkm-1", message="expired")
    assert (row.state, row.error_code) == (RowState.FAILED, "queue_expired")
    assert outbox.next_work_and_more() == (None, False)
    with pytest.raises(IllegalTransition):  # the worker's intent after a withdrawal
        outbox.mark_printing("kkm-1", fn_serial="9289000100346765", last_fd=1)
    # The same request again (KkmServer runs an id again after an error): pending once more.
    stats = outbox.stats()
    assert (stats.failed, stats.withdrawn) == (0, 1)  # the caller was told: not a failed payment
    again = outbox.submit_receipt("kkm-1", receipt, "f1")
    assert again.status is SubmissionStatus.RETAKEN


def test_printing_row_is_never_withdrawn(outbox: Outbox) -> None:
    outbox.submit_receipt("kkm-2", goods_receipt((15000, VatRate.NONE)), "f2")
    outbox.mark_printing("kkm-2", fn_serial="9289000100346765", last_fd=1)
    row = outbox.withdraw("kkm-2", message="expired")
    assert row.state is RowState.PRINTING
    assert row.error_code is None
