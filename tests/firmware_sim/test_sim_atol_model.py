"""The protocol-neutral register model: its rules once, whatever front end drives it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from firmware_sim.register import Reason, Register, RegisterRefusal, ShiftState
from firmware_sim.state import DeviceConfig, DocType, DocumentTags, Item, Mark, ReceiptKind

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CASH, CARD = 0, 1  # payment slots: FN types 1 and 2


def _config(**kwargs: object) -> DeviceConfig:
    base: dict[str, object] = {
        "fn_serial": "9999078900012345",
        "serial": "12345678",
        "fn_valid_until": date(2029, 1, 1),
    }
    return DeviceConfig(**(base | kwargs))  # type: ignore[arg-type]


def _item(price: int = 15000, qty: int = 1, vat_row: int = 1, code: str = "vat22") -> Item:
    return Item(
        name="Кофе",
        qty_micro=qty * 1_000_000,
        price=price,
        amount=price * qty,
        tax_index=vat_row,
        vat=code,
        department=1,
        method=4,
        subject=4,
    )


def _pay(cash: int = 0, card: int = 0) -> list[int]:
    payments = [0] * 16
    payments[CASH], payments[CARD] = cash, card
    return payments


@pytest.fixture
def reg() -> Register:
    register = Register(config=_config())
    register.open_shift(T0)
    return register


def _refused(reason: Reason) -> pytest.RaisesExc[RegisterRefusal]:
    return pytest.raises(RegisterRefusal, check=lambda exc: exc.reason is reason)


def test_open_shift_twice_is_refused_and_a_closed_shift_sells_nothing() -> None:
    register = Register(config=_config())
    with _refused(Reason.SHIFT_CLOSED):
        register.issue_receipt(T0, kind=ReceiptKind.SALE, items=[_item()], payments=_pay(15000))
    doc = register.open_shift(T0, DocumentTags(cashier="Иванова"))
    assert (doc.fd, doc.type, doc.shift) == (2, DocType.OPEN_SHIFT, 1)  # FD 1: registration
    with _refused(Reason.SHIFT_OPEN):
        register.open_shift(T0)


def test_a_sale_gives_change_from_cash_and_keeps_the_mark(reg: Register) -> None:
    mark = Mark(name="CRM ID", value="row-7")
    doc = reg.issue_receipt(
        T0,
        kind=ReceiptKind.SALE,
        items=[_item(15000)],
        payments=_pay(cash=20000),
        tags=DocumentTags(mark=mark),
    )
    assert (doc.total, doc.change, doc.payments[CASH], doc.number) == (15000, 5000, 15000, 1)
    assert doc.tags.mark == mark
    assert reg.cash_in_drawer == 15000
    assert reg.document(doc.fd) == doc
    assert reg.last_document(receipt_only=True) == doc
    assert [row.vat for row in doc.vat] == [2705]  # 150.00 at 22 %: the register computes it


def test_money_rules(reg: Register) -> None:
    sale = {"kind": ReceiptKind.SALE, "items": [_item(10000)]}
    with _refused(Reason.UNDERPAID):
        reg.issue_receipt(T0, payments=_pay(cash=9999), **sale)  # type: ignore[arg-type]
    with _refused(Reason.NON_CASH_ABOVE_TOTAL):
        reg.issue_receipt(T0, payments=_pay(card=10001), **sale)  # type: ignore[arg-type]
    with _refused(Reason.NOT_ENOUGH_CASH):  # a cash refund above the drawer
        reg.issue_receipt(T0, kind=ReceiptKind.REFUND, items=[_item(10000)], payments=_pay(10000))
    with _refused(Reason.NOT_ENOUGH_CASH):
        reg.cash_out(T0, 1)
    reg.cash_in(T0, 500)
    assert reg.cash_out(T0, 500).amount == 500
    assert reg.cash_in_drawer == 0


def test_a_refused_receipt_changes_nothing(reg: Register) -> None:
    before = reg.state
    with _refused(Reason.UNDERPAID):
        reg.issue_receipt(T0, kind=ReceiptKind.SALE, items=[_item(), _item()], payments=_pay(1))
    assert reg.state == before
    assert not reg.receipt_open


def test_the_shift_expires_after_24_hours_on_the_register_clock(reg: Register) -> None:
    reg.advance_clock(timedelta(hours=24, seconds=1).total_seconds())
    status = reg.shift_status(T0)
    assert status.state is ShiftState.EXPIRED
    assert status.expires_at == status.opened_at + timedelta(hours=24)  # type: ignore[operator]
    with _refused(Reason.SHIFT_EXPIRED):
        reg.issue_receipt(T0, kind=ReceiptKind.SALE, items=[_item()], payments=_pay(15000))
    with _refused(Reason.SHIFT_EXPIRED):
        reg.cash_in(T0, 100)
    close = reg.close_shift(T0)  # closing is how an expired shift ends
    assert close.type is DocType.CLOSE_SHIFT
    assert reg.shift_status(T0).state is ShiftState.CLOSED


def test_paper_and_cover(reg: Register) -> None:
    reg.set_paper(False)
    with _refused(Reason.PAPER_OUT):
        reg.issue_receipt(T0, kind=ReceiptKind.SALE, items=[_item()], payments=_pay(15000))
    with _refused(Reason.PAPER_OUT):
        reg.x_report(T0)
    reg.set_paper(True)
    reg.set_cover(True)
    with _refused(Reason.COVER_OPEN):
        reg.close_shift(T0)
    reg.set_cover(False)
    reg.x_report(T0)


def test_close_shift_counts_the_shift_and_a_restart_keeps_everything(reg: Register) -> None:
    reg.issue_receipt(T0, kind=ReceiptKind.SALE, items=[_item(30000)], payments=_pay(30000))
    reg.issue_receipt(T0, kind=ReceiptKind.REFUND, items=[_item(10000)], payments=_pay(10000))
    z = reg.close_shift(T0)
    assert z.counters is not None
    assert (z.counters.sales.cash, z.counters.refunds.cash, z.counters.receipts) == (
        30000,
        10000,
        2,
    )
    again = Register(config=_config(), state=reg.state)
    assert again.state == reg.state
    assert again.last_fd == z.fd


def test_a_line_with_a_tax_row_outside_the_table_is_refused(reg: Register) -> None:
    with _refused(Reason.BAD_PARAMETERS):
        reg.add_item(T0, ReceiptKind.SALE, _item(vat_row=99))
    reg.add_item(T0, ReceiptKind.SALE, _item())
    with _refused(Reason.WRONG_RECEIPT_KIND):
        reg.add_item(T0, ReceiptKind.REFUND, _item())
    with _refused(Reason.RECEIPT_OPEN):
        reg.open_shift(T0)
    reg.cancel_receipt(T0)
    with _refused(Reason.NO_RECEIPT):
        reg.cancel_receipt(T0)
