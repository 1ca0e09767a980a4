"""A calculation-state report (OfdReport, FD type 21) in the shift never confuses recovery.

The report takes an FD like a receipt, but recovery decides by the receipt's mark, and a
receipt's number in its shift is counted over the receipts, never as ``FD - open-shift FD``.
"""

from __future__ import annotations

from datetime import datetime

from agent.domain.receipt import ReceiptKind, VatRate
from agent.drivers.interface import DocumentType, FiscalDocument, IssuedReceipt
from agent.fiscal import recovery
from firmware_sim.state import MSK
from tests.support.fake_fiscal_driver import FN_SERIAL, FakeFiscalDriver
from tests.support.fiscal_services import service_over
from tests.support.receipts import goods_receipt, receipt_ref
from tests.support.shtrih_rig import make_rig

COFFEE = goods_receipt((15000, VatRate.VAT22), cash=20000)
TEA = goods_receipt((5000, VatRate.VAT22))


async def test_a_receipt_after_a_report_is_recovered_by_its_mark() -> None:
    """Receipt, report, then a receipt whose answer was lost: issued, FD after the report, #2."""
    rig = make_rig()
    service = service_over(rig.driver)
    await service.connect()
    await service.prepare_receipt()
    first = await service.issue(TEA, ref=receipt_ref("crm-1"))
    report = await service.calculation_state_report()
    assert report.fd == first.fd + 1
    ticket = await service.prepare_receipt()
    assert ticket.last_fd == report.fd
    intent = recovery.Intent(
        fn_serial=ticket.fn_serial, last_fd=ticket.last_fd, mark="crm-2", receipt=COFFEE
    )
    await rig.driver.register(COFFEE, ref=receipt_ref("crm-2"))  # printed; its answer was lost
    decided = await service.resolve(intent, ref=receipt_ref("crm-2"))
    assert isinstance(decided, IssuedReceipt)
    assert (decided.fd, decided.number, decided.mark) == (report.fd + 1, 2, "crm-2")
    await rig.driver.aclose()


async def test_a_report_after_the_intent_is_not_the_receipt() -> None:
    """Only a report followed the intent: nothing carries the mark, so the receipt prints again."""
    rig = make_rig()
    service = service_over(rig.driver)
    await service.connect()
    ticket = await service.prepare_receipt()
    intent = recovery.Intent(
        fn_serial=ticket.fn_serial, last_fd=ticket.last_fd, mark="crm-3", receipt=COFFEE
    )
    report = await service.calculation_state_report()
    assert report.fd == ticket.last_fd + 1
    decided = await service.resolve(intent, ref=receipt_ref("crm-3"))
    assert decided == recovery.Reprint(cancel_open_receipt=False)
    await rig.driver.aclose()


async def test_a_receipt_read_without_its_number_is_counted_past_the_report() -> None:
    """Open, receipt, report, marked receipt without tag 1042: number 2, not FD - open FD = 3."""
    driver = FakeFiscalDriver(clock=datetime(2026, 11, 21, 12, 0, tzinfo=MSK))
    driver.press_open()
    service = service_over(driver)
    await service.connect()
    await driver.register(TEA, ref=receipt_ref("crm-1"))
    await driver.calculation_state_report()
    intent = recovery.Intent(fn_serial=FN_SERIAL, last_fd=3, mark="crm-4", receipt=COFFEE)
    driver.documents.append(
        FiscalDocument(
            fd=4,
            type=DocumentType.RECEIPT,
            fp=4004,
            issued_at=driver.clock,
            kind=ReceiptKind.SALE,
            total=COFFEE.total,
            mark="crm-4",
            is_whole=True,  # whole, but this register keeps no number (shift and 1042 absent)
        )
    )
    assert driver.kinds() == [
        DocumentType.OPEN_SHIFT,
        DocumentType.RECEIPT,
        DocumentType.CALCULATION_STATE,
        DocumentType.RECEIPT,
    ]
    decided = await service.resolve(intent, ref=receipt_ref("crm-4"))
    assert isinstance(decided, IssuedReceipt)
    assert (decided.fd, decided.number, decided.shift) == (4, 2, 1)
