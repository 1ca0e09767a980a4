"""The SmartOne driver against a scripted cashbox on 127.0.0.1 (tests/support/smartone_scripted.py).

Exactly-once by documentExtID (= the request id on every try and attempt), a lost answer
resent once as the same request, code 44 polled through /check_status, a refused signature,
the Z policy (27 with and without withdraw_before_z, 26), find_receipt by request key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import Cashier, ReceiptKind, VatRate
from agent.drivers.errors import DocumentNotFound, LinkError, ShiftExpired, ShiftNotOpen
from agent.drivers.interface import DocumentType, FindsReceiptsByRequest, ReceiptRef, ShiftState
from agent.drivers.smartone.driver import SmartOneDriver
from agent.drivers.smartone.errors import (
    AuthorizationRefused,
    DrawerNotEmpty,
    ShiftEmpty,
    StillProcessing,
)
from agent.drivers.smartone.params import SmartOneParams
from agent.drivers.smartone.transport import HttpStatus, NoAnswer
from tests.agent.drivers.smartone.test_smartone_codec import EXAMPLE, SALE_REPLY, X_REPORT
from tests.support.smartone_scripted import MERCHANT_ID, ScriptedSmartOne, failure, success

BAKU = ZoneInfo("Asia/Baku")
REF = ReceiptRef(id="crm-7d4c2e1a", mark="crm-7d4c2e1a", attempt=1)
CASHIER = Cashier(name="Aliyeva N.")
OPEN: dict[str, Any] = {
    "shiftID": 17,
    "isShiftOpen": "true",
    "shiftStatus": 1,
    "shiftOpenAt": "2025-03-14 09:10:00",
    "cash": 8000,
}
CLOSED: dict[str, Any] = {"shiftID": 17, "isShiftOpen": "false", "shiftStatus": 2, "cash": 0}
SALE = {key: value for key, value in SALE_REPLY.items() if key not in ("status", "code")}


@pytest.fixture
async def cashbox() -> AsyncIterator[ScriptedSmartOne]:
    """A scripted cashbox with an open shift that fiscalises every sale at once."""
    server = ScriptedSmartOne(results={"/check_shift": OPEN, "/sale": SALE, "/refund": SALE})
    await server.start()
    yield server
    await server.close()


def _driver(server: ScriptedSmartOne, **overrides: Any) -> SmartOneDriver:
    options: dict[str, Any] = {
        "url": server.url,
        "merchant_id": MERCHANT_ID,
        "read_timeout_s": 1.0,
        "sale_timeout_s": 1.0,
        "poll_interval_s": 0.01,
        "processing_timeout_s": 0.3,
        "resend_delay_s": 0.01,
        "zone": BAKU,
        "tax_rate_codes": {VatRate.VAT20: 1, VatRate.NONE: 2},
    }
    options.update(overrides)
    return SmartOneDriver(SmartOneParams(**options))


@pytest.fixture
async def driver(cashbox: ScriptedSmartOne) -> AsyncIterator[SmartOneDriver]:
    """A connected driver (get_info without a serial: the merchant id's head stands in)."""
    made = _driver(cashbox)
    await made.connect()
    yield made
    await made.aclose()


async def test_sale_is_issued_under_the_request_id(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """documentExtID = ref.id; fd from fiscalNum, doc_id = fiscalID, shift from check_shift."""
    issued = await driver.register(EXAMPLE, ref=REF)
    (sent,) = cashbox.sent("/sale")
    assert sent["documentExtID"] == REF.id
    assert sent["amount"] == 740
    assert set(cashbox.content_types) == {"application/x-www-form-urlencoded"}
    assert issued.fn == "smartone:01234567"
    assert (issued.fd, issued.fp, issued.doc_id) == (412, 0, "Ab3dE5fG7hJk")
    assert (issued.shift, issued.number, issued.mark) == (17, 1, REF.mark)
    assert issued.issued_at == datetime(2025, 3, 14, 19, 5, 7, tzinfo=BAKU)
    assert isinstance(driver, FindsReceiptsByRequest)


async def test_a_new_attempt_keeps_the_same_document_ext_id(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """The cashbox's key is the request id itself: attempt 2 is no new document."""
    await driver.register(EXAMPLE, ref=REF)
    await driver.register(EXAMPLE, ref=ReceiptRef(id=REF.id, mark=REF.mark, attempt=2))
    first, second = cashbox.sent("/sale")
    assert first == second


async def test_the_same_request_answered_again_keeps_its_number(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """The cashbox answers a repeated documentExtID with its stored document: the same
    receipt, so the same number in the shift; another request is the next number."""
    first = await driver.register(EXAMPLE, ref=REF)
    again = await driver.register(EXAMPLE, ref=ReceiptRef(id=REF.id, mark=REF.mark, attempt=2))
    other = await driver.register(EXAMPLE, ref=ReceiptRef(id="crm-2", mark="crm-2", attempt=1))
    assert (first.number, again.number, other.number) == (1, 1, 2)


async def test_lost_answer_resends_the_same_request_once(cashbox: ScriptedSmartOne) -> None:
    """A sale whose answer times out is resent, byte for byte, and its reply taken."""
    cashbox.delays["/sale"] = [0.6]
    driver = _driver(cashbox, sale_timeout_s=0.2)
    try:
        issued = await driver.register(EXAMPLE, ref=REF)
    finally:
        await driver.aclose()
    first, again = cashbox.sent("/sale")
    assert first == again
    assert issued.doc_id == "Ab3dE5fG7hJk"


async def test_two_lost_answers_leave_the_outcome_unknown(cashbox: ScriptedSmartOne) -> None:
    """The resend is lost too: a link error (the worker stops and recovery asks by key)."""
    cashbox.delays["/sale"] = [0.6, 0.6]
    driver = _driver(cashbox, sale_timeout_s=0.2)
    try:
        with pytest.raises(NoAnswer) as info:
            await driver.register(EXAMPLE, ref=REF)
    finally:
        await driver.aclose()
    assert isinstance(info.value, LinkError)
    assert len(cashbox.sent("/sale")) == 2


async def test_still_processing_is_polled_through_check_status(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """44 on /sale, 44 then docStatus 1 on /check_status: issued, /sale sent once."""
    cashbox.answers["/sale"] = [failure(44, "in progress")]
    cashbox.answers["/check_status"] = [failure(44), success(**SALE)]
    issued = await driver.register(EXAMPLE, ref=REF)
    assert issued.fd == 412
    assert len(cashbox.sent("/sale")) == 1
    assert cashbox.sent("/check_status") == [{"documentExtID": REF.id}] * 2


async def test_processing_past_the_timeout_raises_still_processing(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """docStatus 0 for longer than processing_timeout_s: outcome unknown (a link error)."""
    cashbox.answers["/sale"] = [success(documentID=1043, docStatus=0)]
    cashbox.answers["/check_status"] = [success(documentID=1043, docStatus=0)]
    with pytest.raises(StillProcessing) as info:
        await driver.register(EXAMPLE, ref=REF)
    assert isinstance(info.value, LinkError)


async def test_not_printed_is_checked_and_reported_issued(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """15: the document may be fiscalised; /check_status says it is: issued."""
    cashbox.answers["/sale"] = [failure(15, "DOCUMENT_NOT_PRINTED")]
    cashbox.answers["/check_status"] = [success(**SALE)]
    issued = await driver.register(EXAMPLE, ref=REF)
    assert issued.doc_id == "Ab3dE5fG7hJk"


async def test_a_receipt_not_printed_gets_its_copy_once_the_printer_can(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """15 then fiscalised: the copy is owed and asked for with /check_copy until it prints.

    Asked before the next receipt and at each reading of the state; a 15 again (no paper
    yet) keeps it owed and never holds up a receipt; once printed it is not asked again.
    """
    cashbox.answers["/sale"] = [failure(15, "DOCUMENT_NOT_PRINTED"), success(**SALE)]
    cashbox.answers["/check_status"] = [success(**SALE)]
    cashbox.answers["/check_copy"] = [failure(15, "no paper"), success(**SALE)]
    await driver.register(EXAMPLE, ref=REF)
    assert cashbox.sent("/check_copy") == []
    other = ReceiptRef(id="crm-next", mark="crm-next", attempt=1)
    await driver.register(EXAMPLE, ref=other)  # the copy still fails: the sale goes through
    assert cashbox.sent("/check_copy") == [{"documentID": 1043}]
    await driver.read_state()  # the idle reading asks again: printed now
    assert cashbox.sent("/check_copy") == [{"documentID": 1043}] * 2
    await driver.read_state()
    assert len(cashbox.sent("/check_copy")) == 2  # nothing owed any more


async def test_code_6_with_the_shift_open_is_shift_expired(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """6 while /check_shift shows the shift open (past its 24 hours): ShiftExpired, a Z first."""
    cashbox.answers["/sale"] = [failure(6, "shift open for more than 24 hours")]
    with pytest.raises(ShiftExpired, match="shift 17 is open since 2025-03-14 09:10"):
        await driver.register(EXAMPLE, ref=REF)


async def test_code_6_with_no_shift_open_is_shift_not_open(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """6 while /check_shift shows no shift open: ShiftNotOpen (the service opens one)."""
    cashbox.results["/check_shift"] = CLOSED
    cashbox.answers["/sale"] = [failure(6, "shift not open")]
    with pytest.raises(ShiftNotOpen) as refused:
        await driver.register(EXAMPLE, ref=REF)
    assert not isinstance(refused.value, ShiftExpired)


async def test_a_refused_signature_is_the_auth_error(cashbox: ScriptedSmartOne) -> None:
    """Another merchant id: code 1 at connect, naming the setting to fix."""
    cashbox.merchant_id = "f" * 32
    driver = _driver(cashbox)
    try:
        with pytest.raises(AuthorizationRefused, match=r"\[smartone\] merchant_id"):
            await driver.connect()
        with pytest.raises(AuthorizationRefused):
            await driver.register(EXAMPLE, ref=REF)
    finally:
        await driver.aclose()


async def test_refund_names_the_sale(cashbox: ScriptedSmartOne, driver: SmartOneDriver) -> None:
    """/refund with parentDocID."""
    refund = replace(EXAMPLE, kind=ReceiptKind.REFUND, parent_doc_id="Ab3dE5fG7hJk")
    await driver.register(refund, ref=ReceiptRef(id="r-1", mark="r-1", attempt=1))
    (sent,) = cashbox.sent("/refund")
    assert (sent["documentExtID"], sent["parentDocID"]) == ("r-1", "Ab3dE5fG7hJk")


async def test_find_receipt_by_request(cashbox: ScriptedSmartOne, driver: SmartOneDriver) -> None:
    """9: None (never arrived or rolled back); docStatus 1: the whole document with its mark."""
    cashbox.answers["/check_status"] = [failure(9, "not found"), success(**SALE)]
    assert await driver.find_receipt(REF) is None
    document = await driver.find_receipt(REF)
    assert document is not None
    assert (document.type, document.fd, document.doc_id) == (
        DocumentType.RECEIPT,
        412,
        "Ab3dE5fG7hJk",
    )
    # A receipt this driver did not send (an agent restarted since): kind and total unknown,
    # the payments as reported; recovery checks what is there (agent/fiscal/recovery.py).
    assert (document.mark, document.is_whole, document.kind, document.total) == (
        REF.mark,
        True,
        None,
        None,
    )
    assert document.payments is not None
    assert (document.payments.cash, document.payments.card) == (300, 440)


async def test_ledger_and_shift_age(cashbox: ScriptedSmartOne, driver: SmartOneDriver) -> None:
    """The shift stays OPEN; its open document carries shiftOpenAt in the cashbox's zone."""
    ledger = await driver.read_ledger()
    assert (ledger.shift, ledger.shift_number, ledger.is_receipt_open) == (
        ShiftState.OPEN,
        17,
        False,
    )
    assert ledger.clock.tzinfo is BAKU
    opened = await driver.shift_open_document(ledger)
    assert opened is not None
    assert (opened.type, opened.shift) == (DocumentType.OPEN_SHIFT, 17)
    assert opened.issued_at == datetime(2025, 3, 14, 9, 10, tzinfo=BAKU)
    assert await driver.read_cash_drawer() == 8000
    with pytest.raises(DocumentNotFound):
        await driver.read_document(1)


async def test_clock_is_the_cashbox_date_header(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """The register clock follows the replies' HTTP Date (the API has no clock route)."""
    ahead = datetime.now(UTC) + timedelta(hours=23, minutes=50)
    cashbox.date_header = format_datetime(ahead, usegmt=True)
    ledger = await driver.read_ledger()
    assert ledger.clock.tzinfo is BAKU
    assert abs(ledger.clock - ahead) < timedelta(seconds=3)
    cashbox.date_header = "not a date"
    state = await driver.read_state()  # a bad header is ignored: the last offset stays
    assert abs(state.clock - ahead) < timedelta(seconds=3)


async def test_z_with_cash_and_withdraw_before_z(cashbox: ScriptedSmartOne) -> None:
    """27: the drawer's cash is withdrawn under z-withdraw-<shift>, then the Z succeeds."""
    cashbox.answers["/check_shift"] = [success(**OPEN), success(**OPEN), success(**CLOSED)]
    closed = success(
        fiscalShiftNum="5", shiftID=17, cash=0, withdrawCount=1, withdrawSum=8000, saleSum=8000
    )
    cashbox.answers["/close_shift"] = [failure(27, "collect cash"), closed]
    driver = _driver(cashbox, withdraw_before_z=True)
    try:
        document = await driver.close_shift(CASHIER)
    finally:
        await driver.aclose()
    (withdraw,) = cashbox.sent("/withdraw")
    assert (withdraw["documentExtID"], withdraw["amount"]) == ("z-withdraw-17", 8000)
    assert (document.shift, document.fd) == (17, 5)
    assert len(cashbox.sent("/close_shift")) == 2
    # The Z's own counters: the withdrawal shows as the shift's cash out, the drawer empty.
    assert document.counters is not None
    assert (document.counters.cash_out, document.counters.cash_in_drawer) == (8000, 0)


async def test_z_counters_come_from_the_close_reply_with_the_withdraw(
    cashbox: ScriptedSmartOne,
) -> None:
    """The Z's counters are the /close_shift reply's: they count the drawer's cash out."""
    cashbox.answers["/check_shift"] = [success(**OPEN), success(**OPEN), success(**CLOSED)]
    cashbox.answers["/close_shift"] = [
        failure(27, "collect cash"),
        success(fiscalShiftNum="5", shiftID=17, saleCashSum=8000, withdrawSum=8000, cash=0),
    ]
    driver = _driver(cashbox, withdraw_before_z=True)
    try:
        document = await driver.close_shift(CASHIER)
    finally:
        await driver.aclose()
    assert document.counters is not None
    counters = document.counters
    assert (counters.shift, counters.sales.cash) == (17, 8000)
    assert (counters.cash_out, counters.cash_in_drawer) == (8000, 0)


async def test_z_answer_lost_has_no_counters(cashbox: ScriptedSmartOne) -> None:
    """A Z decided by /check_shift after a lost answer reports no counters of its own."""
    cashbox.answers["/check_shift"] = [success(**OPEN), success(**CLOSED), success(**CLOSED)]
    cashbox.delays["/close_shift"] = [5.0]
    driver = _driver(cashbox, sale_timeout_s=0.2)
    try:
        document = await driver.close_shift(CASHIER)
    finally:
        await driver.aclose()
    assert document.shift == 17
    assert document.counters is None


async def test_z_with_cash_and_no_withdraw_raises_drawer_not_empty(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """27 without withdraw_before_z: DrawerNotEmpty saying what to do; nothing withdrawn."""
    cashbox.answers["/close_shift"] = [failure(27)]
    with pytest.raises(DrawerNotEmpty, match="withdraw_before_z") as info:
        await driver.close_shift(CASHIER)
    assert info.value.cash == 8000
    assert cashbox.sent("/withdraw") == []


async def test_z_of_an_empty_shift_prints_no_dummy_sale(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """26: ShiftEmpty; no /sale is ever sent to get past it."""
    cashbox.answers["/close_shift"] = [failure(26, "no transactions")]
    with pytest.raises(ShiftEmpty):
        await driver.close_shift(CASHIER)
    assert cashbox.sent("/sale") == []


async def test_cash_in_keeps_its_key_across_a_retry(cashbox: ScriptedSmartOne) -> None:
    """A deposit whose outcome stayed unknown is retried under the same documentExtID."""
    cashbox.delays["/deposit"] = [0.5, 0.5]
    cashbox.answers["/check_status"] = [
        failure(44),
        success(documentID=5, fiscalNum="9", docStatus=1),
    ]
    driver = _driver(cashbox, read_timeout_s=0.2)
    try:
        with pytest.raises(LinkError):
            await driver.cash_in(Kopecks(500))
        movement = await driver.cash_in(Kopecks(500))
    finally:
        await driver.aclose()
    first, second = cashbox.sent("/deposit")
    assert first["documentExtID"] == second["documentExtID"]
    assert first["documentExtID"].startswith("deposit-17-")
    assert (movement.number, movement.cash_in_drawer) == (9, 8000)


async def test_counters_from_the_x_report(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """read_counters: /x_report's counters, VAT by the configured rates."""
    cashbox.results["/x_report"] = {
        k: v for k, v in X_REPORT.items() if k not in ("status", "code")
    }
    counters = await driver.read_counters()
    assert (counters.shift, counters.sales.count, counters.cash_in_drawer) == (17, 3, 8000)
    assert counters.sales_vat == {VatRate.VAT20: 290, VatRate.NONE: 0}


async def test_get_info_serial_names_the_register(cashbox: ScriptedSmartOne) -> None:
    """/get_info with a serial: it is the fn of every receipt."""
    cashbox.results["/get_info"] = {"serialNumber": "AZS-000123"}
    driver = _driver(cashbox)
    try:
        info = await driver.connect()
        issued = await driver.register(EXAMPLE, ref=REF)
    finally:
        await driver.aclose()
    assert (info.serial, info.fn_serial, issued.fn) == ("AZS-000123",) * 3


async def test_a_get_info_the_cashbox_lacks_does_not_stop_connect(
    cashbox: ScriptedSmartOne,
) -> None:
    """HTTP 404 on /get_info: the merchant id's head stands in; elsewhere 404 is a link error."""
    cashbox.http_status["/get_info"] = 404
    driver = _driver(cashbox)
    try:
        info = await driver.connect()
        assert info.fn_serial == "smartone:01234567"
        cashbox.http_status["/check_shift"] = 500
        with pytest.raises(HttpStatus, match="HTTP 500") as exc:
            await driver.read_ledger()
        assert isinstance(exc.value, LinkError)
    finally:
        await driver.aclose()


async def test_find_receipt_of_a_document_rolled_back_while_processing(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """44, then 9: the cashbox dropped it (a declined card): None, nothing was issued."""
    cashbox.answers["/check_status"] = [failure(44), failure(9)]
    assert await driver.find_receipt(REF) is None
    cashbox.answers["/check_status"] = [failure(44), failure(9)]
    await driver.settle(REF)  # nothing pending


async def test_tax_setup_is_the_drivers_own_rates(driver: SmartOneDriver) -> None:
    """Each line names its percent: the configured rates as a table, not read, and it fits."""
    setup = await driver.read_tax_setup()
    assert (setup.computes_vat, setup.is_read_from_register) == (True, False)
    assert [(row.index, row.rate_hundredths, row.name) for row in setup.rows] == [
        (1, 2000, "VAT 20%"),
        (2, 0, "без НДС"),
    ]
    assert setup.mismatches({VatRate.VAT20: 1, VatRate.NONE: 2}) == ()


async def test_a_receipt_found_by_request_names_its_shift_and_number(
    cashbox: ScriptedSmartOne, driver: SmartOneDriver
) -> None:
    """/check_status gives no shift: the open shift is the receipt's when it was printed in it.

    A receipt printed before the open shift began (a shift closed at the cashbox meanwhile)
    keeps no shift rather than a wrong one.
    """
    cashbox.answers["/check_status"] = [success(**SALE)]  # printed 2025-03-14 19:05:07
    found = await driver.find_receipt(REF)
    assert found is not None
    assert (found.shift, found.number) == (17, 1)  # shift 17 opened at 09:10 that day
    again = await driver.find_receipt(REF)
    assert again is not None
    assert again.number == 1  # the same request keeps its number
    later = {**OPEN, "shiftID": 18, "shiftOpenAt": "2025-03-14 20:00:00"}
    cashbox.answers["/check_shift"] = [success(**later)]
    await driver.read_state()
    before = await driver.find_receipt(ReceiptRef(id="crm-old", mark="crm-old", attempt=1))
    assert before is not None
    assert (before.shift, before.number) == (None, None)
