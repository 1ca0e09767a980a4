"""What the outbox tells a shift report: its receipts' change by sign, and the FDs it issued."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind, VatRate
from agent.fiscal.reports import ShiftChange
from agent.outbox.orders import CashDirection, CashOrder, FiscalRecord
from agent.outbox.store import Outbox
from tests.support.receipts import goods_receipt

MSK = timezone(timedelta(hours=3))
FN = "9289000100346765"
OTHER_FN = "9289000100340000"


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "agent.sqlite3", clock=lambda: datetime(2026, 1, 5, 9, tzinfo=UTC))
    yield box
    box.close()


def _issue(
    outbox: Outbox,
    row_id: str,
    *,
    fd: int,
    change: int,
    kind: ReceiptKind = ReceiptKind.SALE,
    shift: int = 12,
    fn: str = FN,
) -> None:
    """A receipt row taken, printed and done on ``fn``/``shift`` as FD ``fd`` with ``change``."""
    receipt = goods_receipt((15000, VatRate.NONE), cash=15000 + change)
    if kind is ReceiptKind.REFUND:
        receipt = replace(receipt, kind=kind)
    outbox.submit_receipt(row_id, receipt, f"fp-{row_id}")
    outbox.mark_printing(row_id, fn_serial=fn, last_fd=fd - 1)
    outbox.mark_done(row_id, fiscal=_record(fd=fd, shift=shift, fn=fn, change=change))


def _record(*, fd: int, shift: int = 12, fn: str = FN, change: int = 0) -> FiscalRecord:
    return FiscalRecord(
        fn=fn,
        fd=fd,
        fp=1000 + fd,
        shift=shift,
        number=fd,
        issued_at=datetime(2026, 1, 5, 12, tzinfo=MSK),
        total=Kopecks(15000),
        change=Kopecks(change),
    )


def test_shift_change_sums_done_receipts_of_the_shift_by_sign(outbox: Outbox) -> None:
    """Sales and refunds apart, to the kopeck; other shifts, other FNs and cash rows are out."""
    _issue(outbox, "s-1", fd=10, change=5001)
    _issue(outbox, "s-2", fd=11, change=99)
    _issue(outbox, "s-3", fd=12, change=0)
    _issue(outbox, "r-1", fd=13, change=1, kind=ReceiptKind.REFUND)
    _issue(outbox, "old", fd=5, change=70000, shift=11)
    _issue(outbox, "fn2", fd=14, change=80000, fn=OTHER_FN)
    outbox.submit_cash("cash-1", CashOrder(direction=CashDirection.IN, amount=Kopecks(50000)), "c")
    outbox.mark_printing("cash-1", fn_serial=FN, last_fd=13)
    # A cash movement gives no change; were its column counted, these 7.77 would show.
    outbox.mark_done("cash-1", fiscal=replace(_record(fd=0, change=777), total=Kopecks(50000)))
    outbox.submit_receipt("waiting", goods_receipt((100, VatRate.NONE), cash=500), "w")

    assert outbox.shift_change(FN, 12) == ShiftChange(sales=Kopecks(5100), refunds=Kopecks(1))
    assert outbox.shift_change(FN, 11) == ShiftChange(sales=Kopecks(70000))
    assert outbox.shift_change(FN, 13) == ShiftChange()


def test_issued_fds_are_the_done_receipts_of_one_fn_in_the_range(outbox: Outbox) -> None:
    """The FDs a tape reading can skip or filter: receipts only, this FN, within the range."""
    _issue(outbox, "a", fd=10, change=0)
    _issue(outbox, "b", fd=12, change=0)
    _issue(outbox, "c", fd=20, change=0)
    _issue(outbox, "d", fd=11, change=0, fn=OTHER_FN)

    outbox.submit_cash("cash-1", CashOrder(direction=CashDirection.IN, amount=Kopecks(100)), "c")
    outbox.mark_printing("cash-1", fn_serial=FN, last_fd=12)
    outbox.mark_done("cash-1", fiscal=replace(_record(fd=0), total=Kopecks(100)))

    assert outbox.issued_fds(FN, 0, 19) == {10, 12}
    assert outbox.issued_fds(FN, 13, 19) == set()
