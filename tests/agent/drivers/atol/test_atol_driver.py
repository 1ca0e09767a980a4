"""The ATOL driver's HTTP handling against a scripted web server (tests/support/atol_scripted.py).

409, blocked then ready, interrupted, slow answers, no final answer, connection refused, and
the exactly-once rules: one uuid per attempt, a new attempt only after the earlier is final,
a doubtful receipt accepted only with its mark read back from the FN.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import VatRate
from agent.drivers.atol.driver import AtolDriver
from agent.drivers.atol.errors import TaskOutcomeUnknown
from agent.drivers.atol.params import AtolParams, receipt_task_uuid
from agent.drivers.errors import (
    AnswerTimeout,
    Disposition,
    DocumentNotFound,
    LinkDown,
    PaperOut,
    ShiftExpired,
)
from agent.drivers.interface import DocumentType, ReceiptRef, ShiftState
from tests.support.atol_scripted import ScriptedAtol, error, ready, status
from tests.support.receipts import goods_receipt

RECEIPT = goods_receipt((74000, VatRate.VAT22))
REF = ReceiptRef(id="crm-740", mark="crm-740", attempt=1)
FISCAL_PARAMS = {
    "fiscalDocumentNumber": 412,
    "fiscalDocumentSign": "2876543210",
    "fiscalDocumentDateTime": "2025-03-14T19:05:00+03:00",
    "fiscalReceiptNumber": 9,
    "shiftNumber": 37,
    "fnNumber": "7380440700123456",
    "registrationNumber": "0001234567012345",
    "total": 740.0,
}
READS: dict[str, dict[str, Any]] = {
    "getDeviceInfo": {"deviceInfo": {"model": 69, "modelName": "АТОЛ 77Ф", "serial": "0010670"}},
    "getFnInfo": {"fnInfo": {"serial": "7380440700123456"}},
    "getDeviceStatus": {
        "deviceStatus": {
            "currentDateTime": "2025-03-14T19:00:00+03:00",
            "coverOpened": False,
            "paperPresent": True,
        }
    },
    "getShiftStatus": {
        "shiftStatus": {
            "state": "opened",
            "number": 37,
            "expiredTime": "2025-03-15T09:10:00+03:00",
        }
    },
    "getFnStatus": {"fnStatus": {"fiscalDocumentNumber": 412}},
    "sell": {"fiscalParams": FISCAL_PARAMS, "warnings": {"notPrinted": False}},
}


def _receipt_document(fd: int, mark: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "fiscalDocumentType": "receipt",
        "1040": fd,
        "1077": "2876543210",
        "1012": "2025-03-14T19:05:00+03:00",
        "1054": 1,
        "1020": 740.0,
        "1038": 37,
        "1042": 9,
        "1059": [{"1030": "Кофе", "1079": 740.0, "1023": 1, "1043": 740.0, "1199": 11}],
        "1031": 740.0,
    }
    if mark is not None:
        doc["1084"] = {"1085": "CRM ID", "1086": mark}
    return {"documentTLV": doc}


def _params(url: str, **overrides: Any) -> AtolParams:
    fields: dict[str, Any] = {
        "url": url,
        "poll_interval_s": 0.01,
        "task_timeout_s": 0.6,
        "read_timeout_s": 0.6,
        "request_timeout_s": 0.3,
    }
    fields.update(overrides)
    return AtolParams(**fields)


@pytest.fixture
async def server() -> AsyncIterator[ScriptedAtol]:
    scripted = ScriptedAtol(results=dict(READS))
    await scripted.start()
    yield scripted
    await scripted.close()


@pytest.fixture
async def driver(server: ScriptedAtol) -> AsyncIterator[AtolDriver]:
    made = AtolDriver(_params(server.url))
    await made.connect()
    yield made
    await made.aclose()


async def test_connect_and_read_state(driver: AtolDriver, server: ScriptedAtol) -> None:
    state = await driver.read_state()
    assert state.shift is ShiftState.OPEN
    assert (state.shift_number, state.last_fd, state.device_mode) == (37, 412, None)
    ledger = await driver.read_ledger()
    assert (ledger.fn_serial, ledger.last_fd) == ("7380440700123456", 412)


async def test_v1_server_found_by_auto() -> None:
    scripted = ScriptedAtol(v1=True, results=dict(READS))
    await scripted.start()
    made = AtolDriver(_params(scripted.url))
    try:
        info = await made.connect()
        assert info.model == "АТОЛ 77Ф"
        assert (await made.read_state()).last_fd == 412
    finally:
        await made.aclose()
        await scripted.close()


async def test_a_sale_under_its_attempt_uuid(driver: AtolDriver, server: ScriptedAtol) -> None:
    issued = await driver.register(RECEIPT, ref=REF)
    assert (issued.fd, issued.fp, issued.shift, issued.number) == (412, 2876543210, 37, 9)
    assert (issued.fn, issued.mark, issued.change) == ("7380440700123456", "crm-740", 0)
    assert server.posted("sell") == [receipt_task_uuid("crm-740", 1)]
    (task,) = server.requests[receipt_task_uuid("crm-740", 1)]
    assert task["items"][-1] == {
        "type": "userAttribute",
        "name": "CRM ID",
        "value": "crm-740",
        "print": True,
    }
    assert server.posted("getFnDocument") == []  # watched plainly: no read-back


async def test_409_reads_the_earlier_result_and_checks_the_mark(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    uuid = receipt_task_uuid("crm-740", 1)
    server.requests[uuid] = [{"type": "sell"}]  # an earlier POST whose answer was lost
    server.documents[412] = _receipt_document(412, "crm-740")
    issued = await driver.register(RECEIPT, ref=REF)
    assert issued.fd == 412
    assert server.posted("sell") == [uuid]
    assert len(server.posted("getFnDocument")) == 1


async def test_409_with_another_mark_is_outcome_unknown(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.requests[receipt_task_uuid("crm-740", 1)] = [{"type": "sell"}]
    server.documents[412] = _receipt_document(412, "crm-other")
    with pytest.raises(TaskOutcomeUnknown, match="mark"):
        await driver.register(RECEIPT, ref=REF)


async def test_blocked_then_ready_keeps_the_uuid_and_reads_back(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.answers["sell"] = [
        status("blocked", 2),
        status("blocked", 2),
        ready({"fiscalParams": {"fiscalDocumentNumber": 412}, "warnings": {"notPrinted": False}}),
    ]
    server.documents[412] = _receipt_document(412, "crm-740")
    issued = await driver.register(RECEIPT, ref=REF)
    assert (issued.fd, issued.fp, issued.number) == (412, 2876543210, 9)
    assert server.posted("sell") == [receipt_task_uuid("crm-740", 1)]


async def test_interrupted_is_the_lost_answer_class(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.answers["sell"] = [status("interrupted", 502)]
    with pytest.raises(AnswerTimeout) as caught:
        await driver.register(RECEIPT, ref=REF)
    assert isinstance(caught.value, TaskOutcomeUnknown)
    assert caught.value.disposition is Disposition.WAIT


async def test_device_errors_are_typed(driver: AtolDriver, server: ScriptedAtol) -> None:
    server.answers["sell"] = [error(68, "Смена превысила 24 часа")]
    with pytest.raises(ShiftExpired):
        await driver.register(RECEIPT, ref=REF)
    server.answers["sell"] = [error(44)]
    with pytest.raises(PaperOut):
        await driver.register(RECEIPT, ref=ReceiptRef(id="crm-741", mark="crm-741", attempt=1))


async def test_a_lost_post_answer_is_resent_under_the_same_uuid(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.post_delays = [0.5]  # stored, but the answer comes after the client gave up
    server.documents[412] = _receipt_document(412, "crm-740")
    issued = await driver.register(RECEIPT, ref=REF)
    uuid = receipt_task_uuid("crm-740", 1)
    assert server.posted("sell") == [uuid, uuid]
    assert len([key for key in server.requests if key == uuid]) == 1
    assert issued.fd == 412


async def test_no_final_answer_in_time_is_outcome_unknown(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.answers["sell"] = [status("inProgress")]
    with pytest.raises(TaskOutcomeUnknown, match="not final"):
        await driver.register(RECEIPT, ref=REF)
    assert server.posted("sell") == [receipt_task_uuid("crm-740", 1)]


async def test_connection_refused_is_link_down_and_nothing_was_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made = AtolDriver(_params(f"http://127.0.0.1:{port}", api="v2"))
    try:
        with pytest.raises(LinkDown) as caught:
            await made.register(RECEIPT, ref=REF)
        assert not isinstance(caught.value, TaskOutcomeUnknown)
        with pytest.raises(LinkDown):
            await made.read_state()
    finally:
        await made.aclose()


async def test_settle_waits_for_every_attempt(driver: AtolDriver, server: ScriptedAtol) -> None:
    first = receipt_task_uuid("crm-740", 1)
    server.requests[first] = [{"type": "sell"}]
    server.answers["sell"] = [status("wait"), status("blocked", 2), error(2)]
    await driver.settle(ReceiptRef(id="crm-740", mark="crm-740", attempt=2))
    gets = [uuid for kind, uuid in server.log if kind == "GET"]
    assert gets.count(first) == 3
    assert gets[-1] == receipt_task_uuid("crm-740", 2)  # never accepted: 404, final


async def test_settle_of_a_task_blocked_for_good_raises(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.requests[receipt_task_uuid("crm-740", 1)] = [{"type": "sell"}]
    server.answers["sell"] = [status("blocked", 2)]
    with pytest.raises(TaskOutcomeUnknown, match="blocked"):
        await driver.settle(REF)


async def test_a_second_attempt_waits_for_the_first(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    first, second = receipt_task_uuid("crm-740", 1), receipt_task_uuid("crm-740", 2)
    server.requests[first] = [{"type": "sell"}]
    server.answers["sell"] = [status("inProgress"), error(44), ready(READS["sell"])]
    issued = await driver.register(RECEIPT, ref=ReceiptRef(id="crm-740", mark="crm-740", attempt=2))
    assert issued.fd == 412
    assert server.log.index(("GET", first)) < server.log.index(("POST sell", second))
    assert server.posted("sell") == [second]


async def test_a_document_past_the_last_fd_is_not_found(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    with pytest.raises(DocumentNotFound):
        await driver.read_document(500)
    server.documents[412] = _receipt_document(412, "crm-740")
    document = await driver.read_document(412)
    assert (document.mark, document.is_whole) == ("crm-740", True)


async def test_the_open_shift_document_is_found_back_and_cached(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    for fd in range(392, 413):
        server.documents[fd] = _receipt_document(fd, f"crm-{fd}")
    server.documents[391] = {
        "documentTLV": {
            "fiscalDocumentType": "openShift",
            "1040": 391,
            "1077": 99,
            "1012": "2025-03-14T09:10:00+03:00",
            "1038": 37,
        }
    }
    state = await driver.read_state()
    document = await driver.shift_open_document(state)
    assert document is not None
    assert (document.fd, document.type, document.shift) == (391, DocumentType.OPEN_SHIFT, 37)
    posts = len(server.log)
    assert await driver.shift_open_document(state) == document
    assert len(server.log) == posts


async def test_cash_and_counters(driver: AtolDriver, server: ScriptedAtol) -> None:
    server.results["cashIn"] = {"counters": {"cashSum": 1500.0}}
    movement = await driver.cash_in(Kopecks(100000))
    assert movement.cash_in_drawer == Kopecks(150000)
    (task,) = server.requests[server.posted("cashIn")[0]]
    assert task == {"type": "cashIn", "cashSum": 1000.0}
    setup = await driver.read_tax_setup()
    assert setup.mismatches({VatRate.VAT22: 11, VatRate.NONE: 6}) == ()
    assert not setup.is_read_from_register  # the driver's own mapping: nothing was checked


async def test_no_new_attempt_after_an_earlier_one_was_issued(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    first, second = receipt_task_uuid("crm-740", 1), receipt_task_uuid("crm-740", 2)
    server.requests[first] = [{"type": "sell"}]  # attempt 1 ran: ready
    with pytest.raises(TaskOutcomeUnknown, match="earlier attempt was issued"):
        await driver.register(RECEIPT, ref=ReceiptRef(id="crm-740", mark="crm-740", attempt=2))
    assert second not in server.requests


async def test_reads_give_up_at_their_own_deadline(server: ScriptedAtol) -> None:
    made = AtolDriver(_params(server.url, task_timeout_s=30.0, read_timeout_s=0.2))
    try:
        await made.connect()
        server.answers["getDeviceStatus"] = [status("wait")]  # the queue held by a block
        started = time.monotonic()
        with pytest.raises(TaskOutcomeUnknown):
            await made.read_state()
        assert time.monotonic() - started < 2.0
    finally:
        await made.aclose()


async def test_a_ready_receipt_with_an_unreadable_result_is_outcome_unknown(
    driver: AtolDriver, server: ScriptedAtol
) -> None:
    server.answers["sell"] = [ready({"fiscalParams": {"fiscalDocumentSign": "1"}})]
    with pytest.raises(TaskOutcomeUnknown, match="unreadable"):
        await driver.register(RECEIPT, ref=REF)
