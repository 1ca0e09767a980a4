"""Conformance: shifts, X and Z, cash in and out, the error classes, the 24-hour lock.

Written against :class:`agent.drivers.interface.FiscalDriver` and the neutral control handle
only (tests/conformance/conftest.py): every protocol's driver passes the same tests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import VatRate
from agent.drivers.errors import (
    NotEnoughCash,
    PaperOut,
    ReceiptNotOpen,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)
from agent.drivers.interface import DocumentType, ReceiptRef, ShiftState
from tests.conformance.conftest import CASHIER, Rig
from tests.support.receipts import goods_receipt

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

DAY_AND_A_MINUTE = int(timedelta(hours=24, minutes=1).total_seconds())


def _ref(request_id: str, attempt: int = 1) -> ReceiptRef:
    return ReceiptRef(id=request_id, mark=request_id, attempt=attempt)


async def test_open_and_close_shift(rig: Rig) -> None:
    """Open: its document and number; open again: ShiftAlreadyOpen; Z; Z again: ShiftNotOpen."""
    closed = await rig.driver.read_state()
    assert closed.shift is ShiftState.CLOSED
    assert await rig.driver.shift_open_document(closed) is None
    opened = await rig.driver.open_shift(CASHIER)
    assert (opened.shift, opened.fd) == (closed.shift_number + 1, closed.last_fd + 1)
    state = await rig.driver.read_state()
    assert (state.shift, state.shift_number, state.last_fd) == (
        ShiftState.OPEN,
        opened.shift,
        opened.fd,
    )
    document = await rig.driver.shift_open_document(state)
    assert document is not None
    assert (document.fd, document.type, document.issued_at) == (
        opened.fd,
        DocumentType.OPEN_SHIFT,
        opened.issued_at,
    )
    with pytest.raises(ShiftAlreadyOpen):
        await rig.driver.open_shift(CASHIER)
    z = await rig.driver.close_shift(CASHIER)
    assert (z.shift, z.fd) == (opened.shift, opened.fd + 1)
    assert (await rig.driver.find_document(z.fd)).type == DocumentType.CLOSE_SHIFT
    with pytest.raises(ShiftNotOpen):
        await rig.driver.close_shift(CASHIER)
    after = await rig.driver.read_state()
    assert (after.shift, after.shift_number) == (ShiftState.CLOSED, opened.shift)
    tape = rig.control.tape()
    assert [(e["fd"], e["type"]) for e in tape[-2:]] == [
        (opened.fd, "open_shift"),
        (z.fd, "close_shift"),
    ]


async def test_x_report_prints_no_document_and_z_counts_the_shift(rig: Rig) -> None:
    """X takes no FD; the counters before Z are the shift's; a new shift starts at zero."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(goods_receipt((15000, VatRate.VAT22)), ref=_ref("conf-x"))
    before = (await rig.driver.read_ledger()).last_fd
    await rig.driver.x_report()
    assert (await rig.driver.read_ledger()).last_fd == before
    counters = await rig.driver.read_counters()
    assert (counters.sales.cash, counters.sales.count) == (15000, 1)
    z = await rig.driver.close_shift(CASHIER)
    assert z.fd == before + 1
    reopened = await rig.driver.open_shift(CASHIER)
    fresh = await rig.driver.read_counters()
    assert fresh.shift == reopened.shift
    assert (fresh.sales.cash, fresh.sales.count, fresh.refunds.count) == (0, 0, 0)


async def test_cash_in_and_out(rig: Rig) -> None:
    """Cash in and out move the drawer; out above the drawer is NotEnoughCash, nothing moves."""
    await rig.driver.open_shift(CASHIER)
    drawer = await rig.driver.read_cash_drawer()
    moved_in = await rig.driver.cash_in(Kopecks(50000))
    assert moved_in.cash_in_drawer == drawer + 50000
    moved_out = await rig.driver.cash_out(Kopecks(20000))
    assert moved_out.cash_in_drawer == drawer + 30000
    assert await rig.driver.read_cash_drawer() == drawer + 30000
    with pytest.raises(NotEnoughCash):
        await rig.driver.cash_out(Kopecks(drawer + 30001))
    assert await rig.driver.read_cash_drawer() == drawer + 30000
    counters = await rig.driver.read_counters()
    assert (counters.cash_in, counters.cash_out) == (50000, 20000)
    assert counters.cash_in_drawer == drawer + 30000


async def test_paper_out(rig: Rig) -> None:
    """No paper: state says so, receipts and X are PaperOut (nothing signed); paper back: prints."""
    opened = await rig.driver.open_shift(CASHIER)
    rig.control.paper_out()
    assert not (await rig.driver.read_state()).has_paper
    with pytest.raises(PaperOut):
        await rig.driver.register(goods_receipt((15000, VatRate.VAT22)), ref=_ref("conf-paper"))
    with pytest.raises(PaperOut):
        await rig.driver.x_report()
    state = await rig.driver.read_state()
    assert (state.last_fd, state.is_receipt_open) == (opened.fd, False)
    rig.control.paper_back()
    assert (await rig.driver.read_state()).has_paper
    issued = await rig.driver.register(
        goods_receipt((15000, VatRate.VAT22)), ref=_ref("conf-paper", attempt=2)
    )
    assert issued.fd == opened.fd + 1


async def test_the_24_hour_lock(rig: Rig) -> None:
    """24 h and a minute later: EXPIRED, receipts ShiftExpired; Z works; a new shift prints."""
    opened = await rig.driver.open_shift(CASHIER)
    rig.control.advance_clock(DAY_AND_A_MINUTE)
    state = await rig.driver.read_state()
    assert state.shift is ShiftState.EXPIRED
    document = await rig.driver.shift_open_document(state)
    assert document is not None
    assert document.fd == opened.fd
    assert state.clock - document.issued_at >= timedelta(hours=24)
    with pytest.raises(ShiftExpired):
        await rig.driver.register(goods_receipt((15000, VatRate.VAT22)), ref=_ref("conf-24h"))
    assert (await rig.driver.read_ledger()).last_fd == opened.fd
    z = await rig.driver.close_shift(CASHIER)
    assert z.shift == opened.shift
    reopened = await rig.driver.open_shift(CASHIER)
    assert reopened.shift == opened.shift + 1
    issued = await rig.driver.register(
        goods_receipt((15000, VatRate.VAT22)), ref=_ref("conf-24h", attempt=2)
    )
    assert (issued.shift, issued.number) == (reopened.shift, 1)


async def test_cancel_with_no_receipt_open_is_receipt_not_open(rig: Rig) -> None:
    """cancel_receipt with nothing open: ReceiptNotOpen."""
    await rig.driver.open_shift(CASHIER)
    with pytest.raises(ReceiptNotOpen):
        await rig.driver.cancel_receipt()


async def test_device_fn_and_tax_setup(rig: Rig) -> None:
    """The FN the driver names is the tape's; the tax table fits the rows the driver sends."""
    fn = await rig.driver.read_fn_state()
    assert fn.serial == rig.info.fn_serial
    assert fn.last_fd == rig.control.last_fd()
    assert (await rig.driver.read_ledger()).fn_serial == rig.info.fn_serial
    setup = await rig.driver.read_tax_setup()
    assert setup.computes_vat
    assert setup.mismatches(rig.tax_rate_codes) == ()
