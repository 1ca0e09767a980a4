"""ShtrihDriver over an in-memory link to the simulator's pure device (docs/style.md §7.2)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from datetime import timedelta

import pytest
import structlog
from structlog.testing import capture_logs

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    Cashier,
    Category,
    Item,
    PaymentMethod,
    Payments,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.drivers.errors import (
    AnswerTimeout,
    BadChecksum,
    CommandNotSupported,
    DeviceError,
    Disposition,
    DocumentNotFound,
    InvalidArgument,
    LinkDown,
    NotEnoughCash,
    PaperOut,
    PrinterBusy,
    ReceiptAlreadyOpen,
    ReceiptNotOpen,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
    WrongPassword,
)
from agent.drivers.interface import DocumentType, FiscalDriver, ShiftState
from agent.drivers.shtrih.commands import Command, ErrorResponse, interpret_error
from agent.drivers.shtrih.driver import DriverParams, ShtrihDriver, device_error
from firmware_sim.state import MSK
from tests.support.shtrih_fakes import utc_now
from tests.support.shtrih_rig import FAST, FN_SERIAL, Rig, make_rig

CASHIER = Cashier(name="Иванов", inn="500100732259")
CONTACT = "+79990001122"
MARK = "crm-0001"
FF45 = Command.CLOSE_RECEIPT
FF46 = Command.ADD_OPERATION


def _item(price: int = 15000, qty: int = 1_000_000, vat: VatRate = VatRate.NONE) -> Item:
    return Item(
        name="Игра",
        qty=Micros(qty),
        price=Kopecks(price),
        vat=vat,
        subject=PaymentSubject.SERVICE,
        method=PaymentMethod.FULL_SETTLEMENT,
    )


def _receipt(
    *items: Item,
    kind: ReceiptKind = ReceiptKind.SALE,
    payments: Payments | None = None,
    contact: str | None = None,
) -> Receipt:
    items = items or (_item(),)
    return Receipt(
        kind=kind,
        category=Category.SERVICE,
        tax_system=TaxSystem.USN_INCOME,
        items=items,
        payments=payments or Payments(cash=Kopecks(20000)),
        cashier=CASHIER,
        customer_contact=contact,
    )


async def _open(rig: Rig) -> None:
    await rig.driver.open_shift(CASHIER)


def test_driver_implements_the_interface() -> None:
    """Every FiscalDriver method exists on ShtrihDriver as a coroutine (mypy checks types)."""
    protocol_methods = {
        name for name, value in vars(FiscalDriver).items() if inspect.iscoroutinefunction(value)
    }
    assert protocol_methods
    for name in protocol_methods:
        assert inspect.iscoroutinefunction(getattr(ShtrihDriver, name)), name


async def test_driver_connect_identifies_the_register(rig: Rig) -> None:
    """connect() reads 0xFC, 0x11 and FF01: model, factory number and FN serial."""
    info = await rig.driver.connect()
    assert (info.model, info.serial, info.fn_serial) == ("ШТРИХ-М-01Ф", "12345678", FN_SERIAL)


async def test_driver_sale_with_change(rig: Rig) -> None:
    """A cash sale of 150.00 paid with 200.00: FD, FP, shift, number 1 and 50.00 change."""
    opened = await rig.driver.open_shift(CASHIER)
    issued = await rig.driver.register(_receipt(contact=CONTACT), mark=MARK)
    assert issued.fn == FN_SERIAL
    assert issued.fd == opened.fd + 1
    assert issued.shift == opened.shift == 1
    assert issued.number == 1
    assert issued.change == 5000
    assert issued.issued_at.utcoffset() == timedelta(hours=3)
    document = await rig.driver.find_document(issued.fd)
    assert (document.type, document.kind, document.total, document.fp) == (
        DocumentType.RECEIPT,
        ReceiptKind.SALE,
        15000,
        issued.fp,
    )
    tags = rig.device.state.documents[-1].tags
    assert (tags.cashier, tags.cashier_inn, tags.has_contact) == ("Иванов", "500100732259", True)
    counters = await rig.driver.read_counters()
    assert (counters.sales.cash, counters.sales.count, counters.cash_in_drawer) == (15000, 1, 15000)


async def test_driver_refund_card_and_prepaid_counters(rig: Rig) -> None:
    """Sales by card and prepaid and a cash refund land in their registers."""
    await _open(rig)
    await rig.driver.register(_receipt(payments=Payments(card=Kopecks(15000))), mark=MARK)
    await rig.driver.register(_receipt(payments=Payments(prepaid=Kopecks(15000))), mark=MARK)
    await rig.driver.register(_receipt(payments=Payments(cash=Kopecks(30000))), mark=MARK)
    refund = await rig.driver.register(
        _receipt(kind=ReceiptKind.REFUND, payments=Payments(cash=Kopecks(15000))), mark=MARK
    )
    assert refund.number == 4
    assert (await rig.driver.find_document(refund.fd)).kind is ReceiptKind.REFUND
    counters = await rig.driver.read_counters()
    assert counters.shift == 1
    assert (
        counters.sales.cash,
        counters.sales.card,
        counters.sales.prepaid,
        counters.sales.count,
    ) == (
        15000,
        15000,
        15000,
        3,
    )
    assert (counters.refunds.cash, counters.refunds.count) == (15000, 1)
    assert counters.cash_in_drawer == 0


async def test_driver_read_state_and_fn_state(rig: Rig) -> None:
    """read_state and read_fn_state report mode, shift, paper, clock and the FN."""
    state = await rig.driver.read_state()
    assert (state.shift, state.device_mode, state.has_paper, state.is_receipt_open) == (
        ShiftState.CLOSED,
        4,
        True,
        False,
    )
    assert state.clock.tzinfo is MSK
    await _open(rig)
    state = await rig.driver.read_state()
    assert (state.shift, state.shift_number, state.last_fd) == (ShiftState.OPEN, 1, 2)
    fn = await rig.driver.read_fn_state()
    assert fn.serial == FN_SERIAL
    assert fn.last_fd == 2
    assert fn.valid_until.isoformat() == "2027-11-21"
    assert fn.unsent_docs >= 1
    assert fn.oldest_unsent_at is not None


async def test_driver_cash_in_and_out(rig: Rig) -> None:
    """0x50/0x51 move the drawer; cash out above the drawer is NotEnoughCash (REJECT)."""
    await _open(rig)
    moved = await rig.driver.cash_in(Kopecks(100000))
    assert moved.cash_in_drawer == 100000
    moved = await rig.driver.cash_out(Kopecks(40000))
    assert moved.cash_in_drawer == 60000
    with pytest.raises(NotEnoughCash) as caught:
        await rig.driver.cash_out(Kopecks(60001))
    assert caught.value.code == 0x46
    assert caught.value.disposition is Disposition.REJECT
    counters = await rig.driver.read_counters()
    assert (counters.cash_in, counters.cash_out) == (100000, 40000)


async def test_driver_x_and_z_reports(rig: Rig) -> None:
    """X prints, Z closes the shift and returns the close-shift FD."""
    opened = await rig.driver.open_shift(CASHIER)
    await rig.driver.register(_receipt(), mark=MARK)
    await rig.driver.x_report()
    closed = await rig.driver.close_shift(CASHIER)
    assert (closed.shift, closed.fd) == (opened.shift, opened.fd + 2)
    closed_state = await rig.driver.read_state()
    assert closed_state.shift is ShiftState.CLOSED
    assert await rig.driver.shift_open_document(closed_state) is None


async def test_driver_shift_guards(rig: Rig) -> None:
    """Opening an open shift and closing a closed one raise before any document command."""
    with pytest.raises(ShiftNotOpen):
        await rig.driver.close_shift(CASHIER)
    await _open(rig)
    sent = len(rig.commands)
    with pytest.raises(ShiftAlreadyOpen):
        await rig.driver.open_shift(CASHIER)
    assert rig.commands[sent:] == [Command.READ_SHORT_STATUS]


async def test_driver_shift_open_document_scans_back_and_caches(rig: Rig) -> None:
    """A fresh driver finds the open-shift FD behind the receipts, then caches it."""
    opened = await rig.driver.open_shift(CASHIER)
    for _ in range(3):
        await rig.driver.register(_receipt(), mark=MARK)
    await rig.driver.aclose()
    rig.driver = ShtrihDriver(transport=rig.link, params=FAST, log=structlog.get_logger("t"))
    state = await rig.driver.read_state()
    document = await rig.driver.shift_open_document(state)
    assert document is not None
    assert (document.fd, document.issued_at, document.shift) == (
        opened.fd,
        opened.issued_at,
        opened.shift,
    )
    assert document.type is DocumentType.OPEN_SHIFT
    sent = len(rig.commands)
    assert await rig.driver.shift_open_document(state) == document
    assert len(rig.commands) == sent, "a cached open-shift document costs no round trip"


async def test_driver_find_document_not_found(rig: Rig) -> None:
    """FN 0x08 on FF0A is DocumentNotFound, a REJECT DeviceError carrying the FD."""
    with pytest.raises(DocumentNotFound) as caught:
        await rig.driver.find_document(999)
    assert (caught.value.fd, caught.value.code) == (999, 0x08)
    assert isinstance(caught.value, DeviceError)


async def test_driver_paper_out_is_paper_out_and_leaves_no_receipt(rig: Rig) -> None:
    """Without paper the receipt is refused with PaperOut (WAIT); nothing stays open."""
    await _open(rig)
    rig.device.set_paper(False)
    with pytest.raises(PaperOut) as caught:
        await rig.driver.register(_receipt(), mark=MARK)
    assert caught.value.disposition is Disposition.WAIT
    rig.device.set_paper(True)
    assert not (await rig.driver.read_state()).is_receipt_open
    assert (await rig.driver.register(_receipt(), mark=MARK)).number == 1


async def test_driver_refused_close_cancels_the_receipt(rig: Rig) -> None:
    """Payments below the total: FF45 refused (0x45, InvalidArgument), then 0x88 cancels."""
    await _open(rig)
    with pytest.raises(InvalidArgument) as caught:
        await rig.driver.register(_receipt(payments=Payments(cash=Kopecks(100))), mark=MARK)
    assert (caught.value.code, caught.value.command) == (0x45, FF45)
    assert Command.CANCEL_RECEIPT in rig.commands
    assert not (await rig.driver.read_state()).is_receipt_open


async def test_driver_refuses_to_add_to_a_receipt_left_open(rig: Rig) -> None:
    """A receipt left open (crash) is not extended: ReceiptAlreadyOpen, no FF46 sent."""
    await _open(rig)
    rig.intercept[FF45] = lambda _payload: bytes([0xFF, 0x45, 0x4E])  # refuse the close once
    rig.intercept[Command.CANCEL_RECEIPT] = lambda _payload: bytes([0x88, 0x37])
    with pytest.raises(ShiftExpired):
        await rig.driver.register(_receipt(), mark=MARK)
    rig.intercept.clear()
    sent = len(rig.commands)
    with pytest.raises(ReceiptAlreadyOpen):
        await rig.driver.register(_receipt(), mark=MARK)
    assert FF46 not in rig.commands[sent:]
    await rig.driver.cancel_receipt()
    with pytest.raises(ReceiptNotOpen):
        await rig.driver.cancel_receipt()


async def test_driver_wrong_password() -> None:
    """An operator password the register refuses is WrongPassword (0x4F, WAIT)."""
    made = make_rig(params=dataclasses.replace(FAST, operator_password=77))
    try:
        with pytest.raises(WrongPassword) as caught:
            await made.driver.read_state()
        assert caught.value.disposition is Disposition.WAIT
    finally:
        await made.driver.aclose()


async def test_driver_shift_over_24_hours(rig: Rig) -> None:
    """A shift past 24 h: state EXPIRED, receipts refused with ShiftExpired, Z still works."""
    rig.device.start_aged_shift(utc_now(), 90_000)
    state = await rig.driver.read_state()
    assert state.shift is ShiftState.EXPIRED
    opened = await rig.driver.shift_open_document(state)
    assert opened is not None
    assert state.clock - opened.issued_at > timedelta(hours=24)
    with pytest.raises(ShiftExpired) as caught:
        await rig.driver.register(_receipt(), mark=MARK)
    assert caught.value.disposition is Disposition.RETRY
    closed = await rig.driver.close_shift(CASHIER)
    assert closed.shift == 1
    assert (await rig.driver.read_state()).shift is ShiftState.CLOSED


async def test_driver_command_not_supported(rig: Rig) -> None:
    """0x37 from the register is CommandNotSupported (REJECT)."""
    await _open(rig)
    rig.intercept[Command.PRINT_X_REPORT] = lambda _payload: bytes([0x40, 0x37])
    with pytest.raises(CommandNotSupported) as caught:
        await rig.driver.x_report()
    assert caught.value.disposition is Disposition.REJECT


async def test_driver_waits_while_printing(slow_printer: Rig) -> None:
    """After a document the register prints (submode 5, 0x50); the driver polls and goes on."""
    rig = slow_printer
    await _open(rig)
    first = await rig.driver.register(_receipt(), mark=MARK)
    second = await rig.driver.register(_receipt(), mark=MARK)
    assert second.fd == first.fd + 1
    assert rig.commands.count(Command.READ_SHORT_STATUS) > 3


async def test_driver_printer_busy_after_the_deadline() -> None:
    """Printing longer than print_wait_s is PrinterBusy (RETRY)."""
    made = make_rig(params=dataclasses.replace(FAST, print_wait_s=0.05), print_time_s=5.0)
    try:
        await made.driver.open_shift(CASHIER)
        with pytest.raises(PrinterBusy) as caught:
            await made.driver.register(_receipt(), mark=MARK)
        assert caught.value.disposition is Disposition.RETRY
    finally:
        await made.driver.aclose()


async def test_driver_continues_printing_after_paper_comes_back() -> None:
    """Paper out mid-print, then back: submode 3 gets 0xB0 and the next receipt goes."""
    made = make_rig(print_time_s=0.3)
    try:
        await made.driver.open_shift(CASHIER)
        made.device.set_paper(False)  # while the open-shift report is still printing
        with pytest.raises(PaperOut):
            await made.driver.register(_receipt(), mark=MARK)
        made.device.set_paper(True)
        issued = await made.driver.register(_receipt(), mark=MARK)
        assert Command.CONTINUE_PRINT in made.commands
        assert issued.number == 1
    finally:
        await made.driver.aclose()


async def test_driver_fragmented_and_delayed_bytes(rig: Rig) -> None:
    """One byte per read and a delay on every answer change nothing."""
    await _open(rig)
    rig.link.knobs.fragment = 1
    rig.link.knobs.delay_s = 0.01
    issued = await rig.driver.register(_receipt(), mark=MARK)
    assert issued.number == 1


async def test_driver_corrupt_answer_is_asked_again(rig: Rig) -> None:
    """Corrupted answers (bad LRC) are NAKed and read again; the receipt is issued once."""
    await _open(rig)
    last_fd = (await rig.driver.read_state()).last_fd
    rig.link.knobs.corrupt_frames = 3
    issued = await rig.driver.register(_receipt(), mark=MARK)
    assert rig.link.knobs.corrupt_frames == 0
    assert issued.fd == last_fd + 1
    assert [d.fd for d in rig.device.state.documents][-1] == issued.fd


async def test_driver_corrupt_request_is_sent_again(rig: Rig) -> None:
    """A request corrupted on the way: the register NAKs it and the driver sends it again."""
    rig.link.knobs.corrupt_requests = 2
    sent = len(rig.commands)
    assert (await rig.driver.read_state()).device_mode == 4
    assert rig.link.knobs.corrupt_requests == 0
    assert rig.commands[sent] == Command.READ_SHORT_STATUS  # executed once, after two NAKs
    assert rig.commands[sent:].count(Command.READ_SHORT_STATUS) == 1


async def test_driver_lost_close_answer_issues_exactly_one_receipt(rig: Rig) -> None:
    """ACK and answer to FF45 lost: the ENQ probe fetches the held answer, no second FD."""
    await _open(rig)
    dropped = {"n": 0}

    def lose_close_answer(out: bytes) -> bool:
        if dropped["n"] == 0 and b"\xff\x45\x00" in out:
            dropped["n"] += 1
            return True
        return False

    rig.link.knobs.drop_filter = lose_close_answer
    issued = await rig.driver.register(_receipt(), mark=MARK)
    assert dropped["n"] == 1
    assert rig.commands.count(FF45) == 1
    assert [d.fd for d in rig.device.state.documents][-1] == issued.fd


async def test_driver_power_cut_is_answer_timeout_then_recovers(rig: Rig) -> None:
    """A dead register is AnswerTimeout (WAIT), with the recent frames in the ERROR log."""
    rig.link.knobs.is_dead = True
    with capture_logs() as logs, pytest.raises(AnswerTimeout) as caught:
        await rig.driver.read_state()
    assert caught.value.disposition is Disposition.WAIT
    errors = [e for e in logs if e["log_level"] == "error"]
    assert errors
    assert any(">> 05" in frame for frame in errors[0]["recent_frames"])
    rig.link.knobs.is_dead = False
    assert (await rig.driver.read_state()).shift is ShiftState.CLOSED


async def test_driver_pause_within_timeout_is_harmless(rig: Rig) -> None:
    """Answers held back briefly (paused line) arrive late but in time."""
    rig.link.knobs.is_paused = True
    task = asyncio.create_task(rig.driver.read_state())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, rig.link.resume)
    state = await task
    assert state.shift is ShiftState.CLOSED


async def test_driver_unplugged_is_link_down_then_reconnects(rig: Rig) -> None:
    """A pulled cable is LinkDown (WAIT); once plugged back the next call reopens the port."""
    rig.link.unplug()
    with pytest.raises(LinkDown) as caught:
        await rig.driver.read_state()
    assert caught.value.disposition is Disposition.WAIT
    rig.link.plug()
    opens = rig.link.opens
    assert (await rig.driver.read_state()).device_mode == 4
    assert rig.link.opens == opens + 1


async def test_driver_line_noise_cap_is_bad_checksum(rig: Rig) -> None:
    """Every answer frame fails its LRC: after the retransmit cap BadChecksum (RETRY)."""
    rig.link.knobs.corrupt_frames = 10_000
    with pytest.raises(BadChecksum) as caught:
        await rig.driver.read_state()
    assert caught.value.disposition is Disposition.RETRY


async def test_driver_drains_an_answer_held_from_a_timed_out_request(rig: Rig) -> None:
    """An answer lost past its timeout stays held; the next request drains it and goes on."""
    rig.link.knobs.drop_filter = lambda out: b"\x10\x00" in out and len(out) > 10
    with pytest.raises(AnswerTimeout):
        await rig.driver.read_state()
    rig.link.knobs.drop_filter = None
    with capture_logs() as logs:
        state = await rig.driver.read_state()
    assert state.device_mode == 4
    assert any("held" in e["event"] for e in logs)


async def test_driver_logs_frames_but_never_the_customer_contact(rig: Rig) -> None:
    """Frames go to DEBUG as '>>'/'<<' hex; the FF0C carrying tag 1008 is redacted."""
    await _open(rig)
    with capture_logs() as logs:
        await rig.driver.register(_receipt(contact=CONTACT), mark=MARK)
    lines = [e["event"] for e in logs if e["log_level"] == "debug"]
    assert any(line.startswith(">> ") for line in lines)
    assert any(line.startswith("<< ") for line in lines)
    contact_hex = CONTACT.encode("cp866").hex(" ")
    assert all(contact_hex not in str(e) for e in logs)
    assert any("redacted" in line for line in lines)


async def test_driver_one_request_at_a_time(rig: Rig) -> None:
    """A status poll issued during a receipt waits: nothing lands between FF46 and FF45."""
    await _open(rig)
    start = len(rig.commands)
    receipt = _receipt(_item(), _item(price=500))
    results = await asyncio.gather(
        rig.driver.register(receipt, mark=MARK), rig.driver.read_state(), rig.driver.read_counters()
    )
    assert results[0].number == 1
    sent = rig.commands[start:]
    first, last = sent.index(FF46), sent.index(FF45)
    assert set(sent[first : last + 1]) <= {FF46, Command.WRITE_TLV, FF45}


@pytest.mark.parametrize(
    ("command", "code", "expected"),
    [
        pytest.param(FF46, 0x6B, PaperOut, id="6b-paper"),
        pytest.param(FF46, 0x6C, PaperOut, id="6c-journal"),
        pytest.param(FF46, 0x58, PaperOut, id="58-continue"),
        pytest.param(FF46, 0x50, PrinterBusy, id="50-busy"),
        pytest.param(FF46, 0x4E, ShiftExpired, id="4e-24h"),
        pytest.param(Command.OPEN_SHIFT, 0x16, ShiftExpired, id="fn16-24h"),
        pytest.param(FF46, 0x3D, ShiftNotOpen, id="3d-no-shift"),
        pytest.param(Command.CASH_IN, 0x4A, ReceiptAlreadyOpen, id="4a-receipt-open"),
        pytest.param(FF45, 0x55, ReceiptNotOpen, id="55-no-receipt"),
        pytest.param(Command.READ_SHORT_STATUS, 0x4F, WrongPassword, id="4f-password"),
        pytest.param(FF46, 0x33, InvalidArgument, id="33-parameters"),
        pytest.param(FF45, 0x45, InvalidArgument, id="45-payments"),
        pytest.param(FF45, 0x4D, InvalidArgument, id="4d-non-cash"),
        pytest.param(FF45, 0x8E, InvalidArgument, id="8e-zero-total"),
        pytest.param(FF46, 0x61, InvalidArgument, id="61-price"),
        pytest.param(FF46, 0x62, InvalidArgument, id="62-quantity"),
        pytest.param(Command.WRITE_TLV, 0x09, InvalidArgument, id="fn09-parameters"),
        pytest.param(Command.CASH_OUT, 0x46, NotEnoughCash, id="46-cash"),
        pytest.param(Command.PRINT_X_REPORT, 0x37, CommandNotSupported, id="37-unknown"),
        pytest.param(Command.PRINT_X_REPORT, 0x72, CommandNotSupported, id="72-submode"),
        pytest.param(Command.PRINT_X_REPORT, 0x73, CommandNotSupported, id="73-mode"),
        pytest.param(Command.READ_FN_STATUS, 0x01, CommandNotSupported, id="fn01-unknown"),
        pytest.param(FF45, 0x02, DeviceError, id="fn02-state"),
        pytest.param(FF45, 0x71, DeviceError, id="71-cutter-unmapped"),
    ],
)
def test_device_error_mapping(command: int, code: int, expected: type[DeviceError]) -> None:
    """Register error codes map to the typed DeviceError subclasses of errors.py."""
    error = device_error(command, ErrorResponse(command=command, code=interpret_error(code)))
    assert type(error) is expected or (expected is DeviceError and isinstance(error, DeviceError))
    assert (error.code, error.command) == (code, command)


@pytest.mark.parametrize(
    "code",
    [pytest.param(c, id=f"fn{c:02x}") for c in (0x02, 0x03, 0x04, 0x05, 0x06, 0x12, 0x14, 0x15)],
)
def test_device_error_fn_failures(code: int) -> None:
    """FN codes for a broken, full, expired or OFD-starved FN are FnFailure (WAIT)."""
    error = device_error(FF45, ErrorResponse(command=FF45, code=interpret_error(code)))
    assert error.disposition is Disposition.WAIT
    assert type(error).__name__ == "FnFailure"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"operator_password": 0}, id="zero-password"),
        pytest.param({"tax_rate_index": {VatRate.VAT22: 1}}, id="tax-table-missing-rates"),
        pytest.param({"answer_timeout_s": 0}, id="zero-answer-timeout"),
        pytest.param({"enq_attempts": 0}, id="zero-enq-attempts"),
    ],
)
def test_driver_params_reject_nonsense(kwargs: dict[str, object]) -> None:
    """Params that cannot work fail at construction."""
    with pytest.raises(ValueError, match=r"must|no row"):
        DriverParams(**kwargs)  # type: ignore[arg-type]


def test_driver_params_answer_timeouts() -> None:
    """The JavaPOS table, a global override, and per-command overrides, in that order."""
    assert DriverParams().answer_timeout_for(Command.OPEN_SHIFT) == 120.0
    assert DriverParams().answer_timeout_for(FF45) == 30.0
    assert DriverParams(answer_timeout_s=1.0).answer_timeout_for(Command.PRINT_Z_REPORT) == 1.0
    params = DriverParams(answer_timeout_s=1.0, answer_timeouts_s={Command.PRINT_Z_REPORT: 90.0})
    assert params.answer_timeout_for(Command.PRINT_Z_REPORT) == 90.0
