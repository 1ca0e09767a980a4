"""ShtrihDriver against ``firmware-sim serve`` as a real process, over a real pty and TCP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

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
    DocumentNotFound,
    DriverError,
    FnFailure,
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
from agent.drivers.interface import DocumentType, ShiftState
from agent.drivers.shtrih.commands import (
    AddOperationRequest,
    AddOperationResponse,
    ErrorResponse,
    OperationType,
    interpret_error,
)
from agent.drivers.shtrih.driver import DriverParams, ShtrihDriver, device_error
from agent.transport import Transport, TransportParams
from firmware_sim.state import MSK
from tests.support.receipts import receipt_ref

pytestmark = pytest.mark.sim

BIN = Path(sys.executable).parent
SIM_PARAMS = DriverParams(
    tz=MSK,
    enq_timeout_s=0.3,
    ack_timeout_s=0.3,
    answer_timeout_s=3.0,
    print_wait_s=5.0,
    print_poll_interval_s=0.02,
)
CASHIER = Cashier(name="Петрова", inn="500100732259")
MARK = "crm-0001"
CONTACT = "guest@example.com"


@dataclass
class SimProcess:
    """One ``firmware-sim serve`` child process with its URLs."""

    proc: subprocess.Popen[str]
    url: str
    control: str
    state_file: Path

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST to the control API; returns the decoded JSON answer."""
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.control + path, data=data, method="POST")  # noqa: S310 - local
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - local
            raw = answer.read()
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        """Terminate it (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def tape(self) -> list[dict[str, Any]]:
        """``firmware-sim tape``: the FN documents, one dict each."""
        out = subprocess.run(
            [str(BIN / "firmware-sim"), "tape", "--state", str(self.state_file)],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


StartSim = Callable[..., SimProcess]


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[StartSim]:
    """Start simulators (``tcp=True`` for TCP, else a pty); all are stopped afterwards."""
    started: list[SimProcess] = []

    def start(*args: str, tcp: bool = False) -> SimProcess:
        state = tmp_path / f"sim{len(started)}.db"
        where = ["--tcp", "127.0.0.1:0"] if tcp else ["--pty"]
        cmd = [str(BIN / "firmware-sim"), "serve", *where, "--control", "127.0.0.1:0"]
        log = (tmp_path / f"sim{len(started)}.log").open("w")
        proc = subprocess.Popen(
            [*cmd, "--state", str(state), *args], stdout=subprocess.PIPE, stderr=log, text=True
        )
        log.close()
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        control = proc.stdout.readline().strip().removeprefix("control ")
        sim = SimProcess(proc=proc, url=url, control=control, state_file=state)
        started.append(sim)
        assert url.startswith("socket://" if tcp else "/dev/"), f"simulator printed {url!r}"
        assert control.startswith("http://"), f"simulator printed {control!r}"
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
async def drivers() -> AsyncIterator[Callable[..., ShtrihDriver]]:
    """Make drivers on a simulator's URL; all are closed afterwards."""
    made: list[ShtrihDriver] = []

    def make(sim: SimProcess, params: DriverParams = SIM_PARAMS) -> ShtrihDriver:
        transport = Transport(params=TransportParams(url=sim.url))
        driver = ShtrihDriver(transport=transport, params=params, log=structlog.get_logger("sim"))
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.aclose()


def _item(price: int, qty: int = 1_000_000, vat: VatRate = VatRate.VAT22) -> Item:
    return Item(
        name="Час игры",
        qty=Micros(qty),
        price=Kopecks(price),
        vat=vat,
        subject=PaymentSubject.SERVICE,
        method=PaymentMethod.FULL_SETTLEMENT,
    )


def _receipt(
    *items: Item,
    kind: ReceiptKind = ReceiptKind.SALE,
    payments: Payments,
    contact: str | None = None,
) -> Receipt:
    return Receipt(
        kind=kind,
        category=Category.SERVICE,
        tax_system=TaxSystem.OSN,
        items=items or (_item(15000),),
        payments=payments,
        cashier=CASHIER,
        customer_contact=contact,
    )


async def _post(sim: SimProcess, path: str, body: dict[str, Any] | None = None) -> Any:
    return await asyncio.to_thread(sim.post, path, body)


async def _raw(driver: ShtrihDriver, payload: bytes, command: int) -> bytes:
    """Send a raw request through the driver's link (for commands it never sends itself)."""
    async with driver._lock:
        frame = await driver._exchange(payload, command, is_sensitive=False)
    return frame.payload


@pytest.mark.timeout(40)
@pytest.mark.parametrize("tcp", [pytest.param(False, id="pty"), pytest.param(True, id="tcp")])
async def test_sim_full_day(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver], tcp: bool
) -> None:
    """Open, sales (change, card, prepaid, contact), refund, cash in/out, X, Z: all add up."""
    sim = start_sim(tcp=tcp)
    driver = drivers(sim)
    info = await driver.connect()
    assert info.model == "ШТРИХ-М-01Ф"
    opened = await driver.open_shift(CASHIER)
    with pytest.raises(ShiftAlreadyOpen):
        await driver.open_shift(CASHIER)

    sale = await driver.register(
        _receipt(
            _item(15000),
            _item(5000, qty=500_000),
            payments=Payments(cash=Kopecks(20000)),
            contact=CONTACT,
        ),
        ref=receipt_ref(MARK),
    )
    assert (sale.change, sale.number, sale.shift, sale.fd) == (2500, 1, opened.shift, opened.fd + 1)
    assert sale.issued_at.tzinfo is MSK
    card = await driver.register(
        _receipt(payments=Payments(card=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    prepaid = await driver.register(
        _receipt(payments=Payments(prepaid=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    refund = await driver.register(
        _receipt(kind=ReceiptKind.REFUND, payments=Payments(cash=Kopecks(15000))),
        ref=receipt_ref(MARK),
    )
    assert [card.number, prepaid.number, refund.number] == [2, 3, 4]
    found = await driver.find_document(refund.fd)
    assert (found.type, found.kind, found.total, found.fp) == (
        DocumentType.RECEIPT,
        ReceiptKind.REFUND,
        15000,
        refund.fp,
    )

    assert (await driver.cash_in(Kopecks(100000))).cash_in_drawer == 100000 + 17500 - 15000
    with pytest.raises(NotEnoughCash):
        await driver.cash_out(Kopecks(10_000_000))
    assert (await driver.cash_out(Kopecks(50000))).cash_in_drawer == 52500
    await driver.x_report()

    counters = await driver.read_counters()
    assert (
        counters.sales.cash,
        counters.sales.card,
        counters.sales.prepaid,
        counters.sales.count,
    ) == (
        17500,
        15000,
        15000,
        3,
    )
    assert (counters.refunds.cash, counters.refunds.count) == (15000, 1)
    assert (counters.cash_in, counters.cash_out, counters.cash_in_drawer) == (100000, 50000, 52500)
    open_document = await driver.shift_open_document(await driver.read_state())
    assert open_document is not None
    assert (open_document.fd, open_document.issued_at) == (opened.fd, opened.issued_at)
    fn = await driver.read_fn_state()
    assert (fn.serial, fn.last_fd) == (info.fn_serial, refund.fd)

    closed = await driver.close_shift(CASHIER)
    assert (closed.shift, closed.fd) == (opened.shift, refund.fd + 1)
    state = await driver.read_state()
    assert (state.shift, state.shift_number, state.last_fd) == (
        ShiftState.CLOSED,
        opened.shift,
        closed.fd,
    )

    await driver.aclose()
    sim.stop()
    tape = sim.tape()
    fds = [doc["fd"] for doc in tape]
    assert fds == sorted(set(fds))
    assert fds[-6:] == list(range(opened.fd, closed.fd + 1))
    assert CONTACT not in json.dumps(tape, ensure_ascii=False)


@pytest.mark.timeout(40)
async def test_sim_every_error_class(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """Each DeviceError subclass comes from the simulator's own error code."""
    sim = start_sim(tcp=True)
    driver = drivers(sim)
    await driver.connect()
    one = _receipt(payments=Payments(cash=Kopecks(15000)))

    with pytest.raises(ShiftNotOpen) as not_open:
        await driver.register(one, ref=receipt_ref(MARK))
    assert not_open.value.code == 0x3D
    with pytest.raises(ShiftNotOpen):
        await driver.close_shift(CASHIER)
    await driver.open_shift(CASHIER)

    with pytest.raises(InvalidArgument) as below:
        await driver.register(_receipt(payments=Payments(cash=Kopecks(100))), ref=receipt_ref(MARK))
    assert below.value.code == 0x45
    assert not (await driver.read_state()).is_receipt_open

    await _post(sim, "/paper/out")
    with pytest.raises(PaperOut):
        await driver.register(one, ref=receipt_ref(MARK))
    with pytest.raises(PaperOut):
        await driver.x_report()
    await _post(sim, "/paper/back")
    assert (await driver.register(one, ref=receipt_ref(MARK))).number == 1

    for payload, command in (
        (b"\x8c\x1e\x00\x00\x00", 0x8C),
        (b"\xff\x99\x1e\x00\x00\x00", 0xFF99),
    ):
        answer = await _raw(driver, payload, command)
        error = device_error(
            command, ErrorResponse(command=command, code=interpret_error(answer[-1]))
        )
        assert isinstance(error, CommandNotSupported), answer.hex(" ")

    with pytest.raises(DocumentNotFound):
        await driver.find_document(99_999)

    request = AddOperationRequest(
        password=30,
        operation=OperationType.INCOME,
        quantity=1_000_000,
        price=100,
        amount=100,
        tax_rate=4,
        payment_method=4,
        payment_subject=4,
        name="left open",
    )
    async with driver._lock:
        await driver._call(request, AddOperationResponse)
    with pytest.raises(ReceiptAlreadyOpen):
        await driver.register(one, ref=receipt_ref(MARK))
    with pytest.raises(ReceiptAlreadyOpen) as receipt_open:
        await driver.cash_in(Kopecks(100))
    assert receipt_open.value.code == 0x4A
    await driver.cancel_receipt()
    with pytest.raises(ReceiptNotOpen) as closed:
        await driver.cancel_receipt()
    assert closed.value.code == 0x55
    with pytest.raises(NotEnoughCash):
        await driver.cash_out(Kopecks(15001))


@pytest.mark.timeout(20)
async def test_sim_wrong_password(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """A password the register does not know is WrongPassword (0x4F)."""
    sim = start_sim(tcp=False)
    with pytest.raises(WrongPassword) as caught:
        await drivers(sim, replace(SIM_PARAMS, operator_password=77)).read_state()
    assert caught.value.code == 0x4F


@pytest.mark.timeout(30)
async def test_sim_shift_over_24_hours(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """``--shift-age 90000``: EXPIRED, receipts refused with ShiftExpired, Z recovers."""
    sim = start_sim("--shift-age", "90000", tcp=True)
    driver = drivers(sim)
    state = await driver.read_state()
    assert state.shift is ShiftState.EXPIRED
    opened = await driver.shift_open_document(state)
    assert opened is not None
    assert state.clock - opened.issued_at >= timedelta(seconds=89_900)
    with pytest.raises(ShiftExpired):
        await driver.register(
            _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
        )
    with pytest.raises(ShiftExpired):
        await driver.cash_in(Kopecks(100))
    closed = await driver.close_shift(CASHIER)
    reopened = await driver.open_shift(CASHIER)
    assert reopened.shift == closed.shift + 1
    assert (
        await driver.register(
            _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
        )
    ).number == 1


@pytest.mark.timeout(30)
async def test_sim_printing_waits_then_printer_busy(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """``--print-ms``: the driver polls through printing; past print_wait_s it is PrinterBusy."""
    sim = start_sim("--print-ms", "300", tcp=False)
    driver = drivers(sim)
    await driver.open_shift(CASHIER)
    first = await driver.register(
        _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    second = await driver.register(
        _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    assert second.fd == first.fd + 1
    await driver.aclose()
    impatient = drivers(sim, replace(SIM_PARAMS, print_wait_s=0.05))
    with pytest.raises(PrinterBusy):
        await impatient.x_report()


@pytest.mark.timeout(30)
async def test_sim_expired_fn_is_fn_failure(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """An FN past its validity refuses the shift: FnFailure (WAIT, needs a person)."""
    sim = start_sim("--fn-valid-until", "2020-01-01", tcp=True)
    with pytest.raises(FnFailure) as caught:
        await drivers(sim).open_shift(CASHIER)
    assert caught.value.code == 0x05


@pytest.mark.timeout(30)
@pytest.mark.parametrize("tcp", [pytest.param(False, id="pty"), pytest.param(True, id="tcp")])
async def test_sim_power_cut_mid_receipt(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver], tcp: bool
) -> None:
    """Power cut with a receipt open: AnswerTimeout; back on, the receipt is gone, no FD."""
    sim = start_sim(tcp=tcp)
    driver = drivers(sim, replace(SIM_PARAMS, enq_timeout_s=0.1, answer_timeout_s=0.5))
    opened = await driver.open_shift(CASHIER)
    request = AddOperationRequest(
        password=1,
        operation=OperationType.INCOME,
        quantity=1_000_000,
        price=15000,
        amount=15000,
        tax_rate=1,
        payment_method=4,
        payment_subject=4,
        name="Час игры",
    )
    async with driver._lock:
        await driver._call(request, AddOperationResponse)
    assert (await driver.read_state()).is_receipt_open
    await _post(sim, "/power/cut")
    with pytest.raises(AnswerTimeout):
        await driver.register(
            _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
        )
    await _post(sim, "/power/back")
    state = await driver.read_state()
    assert not state.is_receipt_open
    assert state.last_fd == opened.fd
    issued = await driver.register(
        _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    assert issued.fd == opened.fd + 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("tcp", [pytest.param(False, id="pty"), pytest.param(True, id="tcp")])
async def test_sim_process_gone_is_link_down(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver], tcp: bool
) -> None:
    """The simulator process dies: the next call fails with a LinkError (LinkDown)."""
    sim = start_sim(tcp=tcp)
    driver = drivers(sim, replace(SIM_PARAMS, enq_timeout_s=0.1, answer_timeout_s=0.5))
    await driver.connect()
    sim.stop()
    with pytest.raises(LinkDown):
        await driver.read_state()


@pytest.mark.timeout(30)
async def test_sim_line_faults_issue_exactly_one_receipt(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """Corrupted and lost bytes both ways: every receipt is issued once, FDs consecutive."""
    sim = start_sim(tcp=True)
    driver = drivers(sim, replace(SIM_PARAMS, enq_timeout_s=0.15, ack_timeout_s=0.15))
    opened = await driver.open_shift(CASHIER)
    faults: list[tuple[str, dict[str, Any]]] = [
        ("/faults/corrupt", {"count": 3, "direction": "out"}),
        ("/faults/drop", {"count": 2, "direction": "out"}),
        ("/faults/corrupt", {"count": 2, "direction": "in"}),
        ("/faults/drop", {"count": 2, "direction": "in"}),
    ]
    issued = []
    for path, body in faults:
        await _post(sim, path, body)
        try:
            issued.append(
                await driver.register(
                    _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
                )
            )
        except DriverError as exc:  # a fault may cost one attempt; never a duplicate
            pytest.fail(f"{path} {body}: {exc!r}")
    assert [r.fd for r in issued] == list(range(opened.fd + 1, opened.fd + 5))
    assert (await driver.read_state()).last_fd == opened.fd + 4


@pytest.mark.timeout(30)
async def test_sim_line_noise_is_bad_checksum_then_recovers(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """Every byte from the register corrupted: BadChecksum; faults cleared, it works again."""
    sim = start_sim(tcp=True)
    driver = drivers(sim)
    await driver.connect()
    await _post(sim, "/faults/corrupt", {"count": 100_000, "direction": "out"})
    with pytest.raises(BadChecksum):
        await driver.read_state()
    await _post(sim, "/faults/clear")
    assert (await driver.read_state()).shift is ShiftState.CLOSED


async def _get(sim: SimProcess, path: str) -> Any:
    def get() -> Any:
        with urllib.request.urlopen(sim.control + path, timeout=5) as answer:  # noqa: S310 - local
            return json.loads(answer.read())

    return await asyncio.to_thread(get)


@pytest.mark.timeout(40)
async def test_sim_drawer_and_state_report_between_receipts(
    start_sim: StartSim, drivers: Callable[..., ShtrihDriver]
) -> None:
    """0x28 opens the drawer without an FD; FF38 takes one, and receipts still count right."""
    sim = start_sim()
    driver = drivers(sim)
    await driver.connect()
    opened = await driver.open_shift(CASHIER)
    first = await driver.register(
        _receipt(payments=Payments(cash=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    await driver.open_drawer()
    state = await _get(sim, "/state")
    assert (state["drawer_openings"], state["last_fd"]) == (1, first.fd)

    report = await driver.calculation_state_report()
    assert report.fd == first.fd + 1
    assert report.unsent_docs == first.fd - 1  # all but the registration report
    assert report.oldest_unsent == opened.issued_at.date()
    found = await driver.find_document(report.fd)
    assert (found.type, found.fp) == (DocumentType.CALCULATION_STATE, report.fp)
    whole = await driver.read_document(report.fd)
    assert (whole.type, whole.shift, whole.mark) == (
        DocumentType.CALCULATION_STATE,
        opened.shift,
        None,
    )

    second = await driver.register(
        _receipt(payments=Payments(card=Kopecks(15000))), ref=receipt_ref(MARK)
    )
    assert (second.fd, second.number) == (report.fd + 1, 2)  # the report is no receipt
    await driver.aclose()
    fresh = drivers(sim)  # no cache: the guess "last FD - receipts" misses by the report
    await fresh.connect()
    found_open = await fresh.shift_open_document(await fresh.read_state())
    assert found_open is not None
    assert found_open.fd == opened.fd
    tape = await asyncio.to_thread(sim.tape)
    assert [doc["type"] for doc in tape][-3:] == ["receipt", "calculation_state", "receipt"]
    assert tape[-2]["backlog"]["unsent_docs"] == report.unsent_docs
