"""Conformance: shifts, X and Z, cash in and out, the error classes, the 24-hour lock.

Written against :class:`agent.drivers.interface.FiscalDriver` and the neutral control handle
only (tests/conformance/conftest.py): every protocol's driver passes the same tests. FD
arithmetic is asserted where the register has an FD archive (``rig.has_fd_archive``); the
tape's entries (type, shift, mark) are every protocol's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind
from agent.drivers.errors import (
    NotEnoughCash,
    PaperOut,
    ReceiptNotOpen,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)
from agent.drivers.interface import DocumentType, ReceiptRef, ShiftState
from tests.conformance.conftest import CASHIER, Rig, marked, recovered
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
    assert opened.shift == closed.shift_number + 1
    if rig.has_fd_archive:
        assert opened.fd == closed.last_fd + 1
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
    assert z.shift == opened.shift
    if rig.has_fd_archive:
        assert z.fd == opened.fd + 1
        assert (await rig.driver.find_document(z.fd)).type == DocumentType.CLOSE_SHIFT
    with pytest.raises(ShiftNotOpen):
        await rig.driver.close_shift(CASHIER)
    after = await rig.driver.read_state()
    assert (after.shift, after.shift_number) == (ShiftState.CLOSED, opened.shift)
    tape = rig.control.tape()
    assert [(e["type"], e["shift"]) for e in tape[-2:]] == [
        ("open_shift", opened.shift),
        ("close_shift", z.shift),
    ]
    if rig.has_fd_archive:
        assert [e["fd"] for e in tape[-2:]] == [opened.fd, z.fd]


async def test_x_report_prints_no_document_and_z_counts_the_shift(rig: Rig) -> None:
    """X takes no FD; the counters before Z are the shift's; a new shift starts at zero."""
    await rig.driver.open_shift(CASHIER)
    await rig.driver.register(goods_receipt((15000, rig.rate)), ref=_ref("conf-x"))
    before = (await rig.driver.read_ledger()).last_fd
    tape = rig.control.tape()
    await rig.driver.x_report()
    assert (await rig.driver.read_ledger()).last_fd == before
    assert rig.control.tape() == tape
    counters = await rig.driver.read_counters()
    assert (counters.sales.cash, counters.sales.count) == (15000, 1)
    z = await rig.driver.close_shift(CASHIER)
    if rig.has_fd_archive:
        assert z.fd == before + 1
    assert [e["type"] for e in rig.control.tape()[len(tape) :]] == ["close_shift"]
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
    if not rig.has_paper_sensor:
        pytest.skip(
            f"{rig.protocol} reports no paper sensor and fiscalises without paper (code 15,"
            " printError 1; the copy is reprinted): the driver reports such a receipt issued,"
            " covered by test_no_paper_never_signs_a_receipt_twice"
        )
    opened = await rig.driver.open_shift(CASHIER)
    rig.control.paper_out()
    assert not (await rig.driver.read_state()).has_paper
    with pytest.raises(PaperOut):
        await rig.driver.register(goods_receipt((15000, rig.rate)), ref=_ref("conf-paper"))
    with pytest.raises(PaperOut):
        await rig.driver.x_report()
    state = await rig.driver.read_state()
    assert (state.last_fd, state.is_receipt_open) == (opened.fd, False)
    rig.control.paper_back()
    assert (await rig.driver.read_state()).has_paper
    issued = await rig.driver.register(
        goods_receipt((15000, rig.rate)), ref=_ref("conf-paper", attempt=2)
    )
    assert issued.fd == opened.fd + 1


async def test_no_paper_never_signs_a_receipt_twice(rig: Rig) -> None:
    """Paper out as a receipt is sent: refused with PaperOut and nothing signed (a register
    with a paper sensor), or signed and reported issued (SmartOne: code 15, a copy later).
    Either way the same request sent again after paper back leaves one document with its mark.
    """
    await rig.driver.open_shift(CASHIER)
    ref = _ref("conf-no-paper")
    rig.control.paper_out()
    first = None
    if rig.has_paper_sensor:
        with pytest.raises(PaperOut):
            await rig.driver.register(goods_receipt((15000, rig.rate)), ref=ref)
        assert marked(rig, ref.mark) == []
    else:
        first = await rig.driver.register(goods_receipt((15000, rig.rate)), ref=ref)
        assert marked(rig, ref.mark) == [ref.mark]
    rig.control.paper_back()
    again = await rig.driver.register(goods_receipt((15000, rig.rate)), ref=_ref(ref.id, attempt=2))
    if first is not None:  # the cashbox answered the stored document: the same one
        assert (again.fd, again.doc_id, again.number) == (first.fd, first.doc_id, first.number)
    assert marked(rig, ref.mark) == [ref.mark]
    document = await recovered(rig, ref, again.fd)
    assert (document.kind, document.total) == (ReceiptKind.SALE, 15000)


async def test_the_24_hour_lock(rig: Rig) -> None:
    """24 h and a minute later: expired, receipts ShiftExpired; Z works; a new shift prints.

    Expired is EXPIRED where the register flags it; SmartOne flags no shift age (it stays
    OPEN): there the open-shift document is 24 hours old on the register's own clock, which
    is what the agent's guard rotates it by.
    """
    opened = await rig.driver.open_shift(CASHIER)
    rig.control.advance_clock(DAY_AND_A_MINUTE)
    state = await rig.driver.read_state()
    assert state.shift is (ShiftState.EXPIRED if rig.flags_expired_shift else ShiftState.OPEN)
    document = await rig.driver.shift_open_document(state)
    assert document is not None
    assert (document.fd, document.issued_at) == (opened.fd, opened.issued_at)
    assert state.clock - document.issued_at >= timedelta(hours=24)
    with pytest.raises(ShiftExpired):
        await rig.driver.register(goods_receipt((15000, rig.rate)), ref=_ref("conf-24h"))
    assert (await rig.driver.read_ledger()).last_fd == opened.fd
    assert marked(rig, "conf-24h") == []
    z = await rig.driver.close_shift(CASHIER)
    assert z.shift == opened.shift
    reopened = await rig.driver.open_shift(CASHIER)
    assert reopened.shift == opened.shift + 1
    issued = await rig.driver.register(
        goods_receipt((15000, rig.rate)), ref=_ref("conf-24h", attempt=2)
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
    if rig.has_fd_archive:
        assert fn.last_fd == rig.control.last_fd()
    assert (await rig.driver.read_ledger()).fn_serial == rig.info.fn_serial
    setup = await rig.driver.read_tax_setup()
    assert setup.computes_vat
    assert setup.mismatches(rig.tax_rate_codes) == ()
