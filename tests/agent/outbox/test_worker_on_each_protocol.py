"""The fiscal service end to end on each protocol: the outbox worker prints through the driver.

The worker, the service, the outbox (a real SQLite file) and the intake run in this process;
the register is each protocol's simulator as a real process, driven by its real driver
(the conformance suite's rigs, tests/support/conformance_rigs.py, with their neutral control).
Key cases of the worker's tests, on Shtrih, ATOL and SmartOne alike: a receipt prints once
with its mark; a power cut after the register ran the receipt is recorded from the register
and never printed again; a power cut before it ran is printed once, by the next attempt. The
row names its document by FD on a register with an FD archive, by the cashbox's ``fiscalID``
(``doc_id``) on SmartOne, whose FD is no tape number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from agent.config import load_config
from agent.domain.receipt import Cashier
from agent.drivers.interface import FindsReceiptsByRequest, ShiftState
from agent.fiscal.service import FiscalService
from agent.fiscal.shift_guard import ShiftPolicy
from agent.intake import Intake
from agent.outbox.states import RowState
from agent.outbox.store import Outbox
from agent.outbox.worker import FiscalWorker
from tests.support.agent_rig import FAST_WORKER, host_now
from tests.support.conformance_rigs import RIGS, ConformanceRig, Operation, RegisterControl
from tests.support.payloads import receipt
from tests.support.smartone_sim import MERCHANT_ID

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

CONFIG = """
club = "club-1"
agent = "desk-1"
country = "{country}"
state_dir = "{state}"
[register]
protocol = "{protocol}"
url = "{url}"
tz = "Europe/Moscow"
{tax}
[cashier]
name = "Администратор"
"""
TAX_SECTION = """[tax]
top_up = "usn_income"
service = "usn_income"
goods = "usn_income"
"""
SMARTONE_SECTION = f"""
[smartone]
merchant_id = "{MERCHANT_ID}"
"""


@dataclass
class Line:
    """One agent's fiscal line on one protocol's simulator."""

    protocol: str
    control: RegisterControl
    by_request: bool
    """The register keeps receipts by request key (SmartOne): no FD archive."""
    vat: str
    """The contract's VAT code of the rig's receipts (one the register takes)."""
    outbox: Outbox
    service: FiscalService
    intake: Intake

    def done(self, request_id: str) -> Any:
        row = self.outbox.get(request_id)
        return row if row is not None and row.state is RowState.DONE else None

    def receipt(self, request_id: str, kopecks: int) -> dict[str, Any]:
        """A one-coffee receipt payload at a VAT rate this register takes."""
        payload = receipt(request_id, kopecks)
        for item in payload["items"]:
            item["vat"] = self.vat
        return payload

    def marked(self, request_id: str) -> list[dict[str, Any]]:
        return [entry for entry in self.control.tape() if entry.get("mark") == request_id]

    def documents(self, request_id: str) -> list[object]:
        """The ids of the tape's documents with this mark, as the row names its document."""
        name = "doc_id" if self.by_request else "fd"
        return [entry[name] for entry in self.marked(request_id)]

    def document_of(self, row: Any) -> object:
        """The id of the row's document: its FD, or its ``doc_id`` without an FD archive."""
        return row.fiscal.doc_id if self.by_request else row.fiscal.fd


async def _until(predicate: Callable[[], Any], *, timeout_s: float = 40.0) -> Any:
    async with asyncio.timeout(timeout_s):
        while not (value := predicate()):
            await asyncio.sleep(0.05)
        return value


@pytest.fixture(scope="module", params=sorted(RIGS))
def simulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConformanceRig]:
    """The protocol's simulator as a real process, shared by the module's tests."""
    made = RIGS[request.param]()
    made.start(tmp_path_factory.mktemp(f"worker-{request.param}"))
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
async def line(simulator: ConformanceRig, tmp_path: Path) -> AsyncIterator[Line]:
    """The worker running over a connected driver, a shift open, no fault armed."""
    control = simulator.control
    control.clear_faults()
    control.power_back()
    control.paper_back()
    config_file = tmp_path / "agent.toml"
    url = "socket://127.0.0.1:1" if simulator.protocol == "shtrih" else "http://127.0.0.1:1"
    is_az = simulator.protocol == "smartone"  # a SmartOne cashbox fiscalises in Azerbaijan
    text = CONFIG.format(
        state=tmp_path,
        protocol=simulator.protocol,
        url=url,
        country="AZ" if is_az else "RU",
        tax="" if is_az else TAX_SECTION,
    )
    if simulator.protocol == "smartone":
        text += SMARTONE_SECTION
    config_file.write_text(text)
    config = load_config(config_file, {})
    log = structlog.get_logger("test")
    outbox = Outbox(tmp_path / "agent.sqlite3", clock=host_now)
    driver = simulator.make_driver()
    service = FiscalService(
        driver=driver,
        policy=ShiftPolicy(),
        cashier=Cashier(name="Админ"),
        tax_rows=dict(simulator.tax_rate_codes),
        log=log,
        shift_change=outbox.shift_change,
    )
    worker = FiscalWorker(
        outbox=outbox,
        service=service,
        params=replace(FAST_WORKER, idle_tick_s=3600),
        log=log,
        clock=host_now,
    )
    await service.connect()
    state = await driver.read_state()
    if state.shift is ShiftState.CLOSED:
        await service.open_shift()
    task = asyncio.create_task(worker.run(), name="worker")
    try:
        yield Line(
            protocol=simulator.protocol,
            control=control,
            by_request=isinstance(driver, FindsReceiptsByRequest),
            vat=simulator.rate.code,
            outbox=outbox,
            service=service,
            intake=Intake(config=config, outbox=outbox, worker=worker, log=log),
        )
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        control.clear_faults()
        control.power_back()
        await service.close()
        outbox.close()


async def test_a_receipt_prints_once_with_its_mark(line: Line) -> None:
    """Submitted, printed, done: the row's fiscal data is the register's document."""
    request_id = f"w-{line.protocol}-one"
    await line.intake.submit_receipt(line.receipt(request_id, 15000))
    row = await _until(lambda: line.done(request_id))
    (document,) = line.documents(request_id)
    assert (line.document_of(row), row.fiscal.mark, row.print_attempt) == (
        document,
        request_id,
        1,
    )


@pytest.mark.parametrize(
    "after", [pytest.param(False, id="before"), pytest.param(True, id="after")]
)
async def test_power_cut_at_the_receipt_prints_it_once(line: Line, after: bool) -> None:
    """Power lost as the receipt is signed; back again, recovery reads the register.

    After it ran: recorded from the register by the mark, never printed again (one document,
    the first attempt's). Before it ran: nothing in the FN, so the next attempt prints it once.
    """
    request_id = f"w-{line.protocol}-power-{'after' if after else 'before'}"
    last_fd = line.control.last_fd()
    line.control.power_cut(Operation.RECEIPT, after=after)
    await line.intake.submit_receipt(line.receipt(request_id, 15000))
    await _until(lambda: line.control.last_fd() > last_fd if after else _waiting(line, request_id))
    await asyncio.sleep(0.5)  # the worker meets the dead register
    line.control.power_back()
    row = await _until(lambda: line.done(request_id))
    assert line.documents(request_id) == [line.document_of(row)], "printed exactly once"
    assert row.fiscal.mark == request_id
    assert row.print_attempt == (1 if after else 2)


def _waiting(line: Line, request_id: str) -> bool:
    """The row has been taken by the worker (its first attempt is under way or failed)."""
    row = line.outbox.get(request_id)
    return row is not None and row.state is not RowState.PENDING
