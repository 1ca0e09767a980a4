"""The Shtrih driver's receipts (sale, refund and correction receipts) and their cancel.

A part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`, not used alone. It also keeps the
shift cursor counting forward, so a receipt's shift and number cost no FF40 in steady state.
"""

from __future__ import annotations

from agent.domain.money import Kopecks
from agent.domain.receipt import Receipt, ReceiptKind
from agent.drivers.errors import (
    DeviceError,
    DriverError,
    ReceiptAlreadyOpen,
    TaxSystemMissing,
    VatRateNotSupported,
)
from agent.drivers.interface import IssuedReceipt, ReceiptRef
from agent.drivers.shtrih.commands import (
    FN_PAYMENT_TYPES,
    AddOperationRequest,
    AddOperationResponse,
    BeginCorrectionRequest,
    BeginCorrectionResponse,
    CancelReceiptRequest,
    CancelReceiptResponse,
    CloseReceiptRequest,
    CloseReceiptResponse,
    Command,
    DeviceErrorCode,
    Mode,
    OperationType,
    ReadShiftParamsRequest,
    ReadShiftParamsResponse,
    ReadShortStatusRequest,
    ReadShortStatusResponse,
    Tag,
    TlvItem,
    tlv_string,
)
from agent.drivers.shtrih.correction_tags import correction_tags
from agent.drivers.shtrih.driver_core import DriverCore, ShiftCursor
from agent.drivers.shtrih.params import PAYMENT_TYPE_CARD, PAYMENT_TYPE_CASH, PAYMENT_TYPE_PREPAID
from agent.drivers.shtrih.tag_builders import cashier_tags, mark_tlv

OPERATION_BY_KIND = {
    ReceiptKind.SALE: OperationType.INCOME,
    ReceiptKind.REFUND: OperationType.INCOME_RETURN,
}


class ReceiptOps(DriverCore):
    """Receipts and correction receipts: FF35, FF46, FF0C, FF45; 0x88 to cancel."""

    async def register(self, receipt: Receipt, *, ref: ReceiptRef) -> IssuedReceipt:
        """FF46 per item, one FF0C (cashier and mark), FF45; a refused receipt is cancelled.

        A receipt with ``correction`` is a correction receipt: FF35 first, and 1173 and
        1174/1178 in the same FF0C (docs/corrections.md; the sequence is unconfirmed on
        hardware).

        The mark (``ref.mark``; the id and attempt do not reach a Shtrih register) travels as
        tag 1084 (1085 :data:`MARK_NAME`, 1086 the mark) in the same
        FF0C as the cashier's tags; the buyer's contact (1008) goes in an FF0C of its own,
        masked in the frame log. In steady state a one-item receipt is three round trips
        (docs/fn-documents.md §4): no 0x10 before FF46 while the driver can vouch that no
        receipt is open (a 0x50 or 0x58 refusal still waits for the printer), and no FF40
        while FF45's FD follows the last FD the driver counted.

        The FF46 amount field carries the line amount the agent computed (price x qty rounded
        half up): the register checks it within one kopeck, and the total the payments were
        checked against is then exactly the one the FN signs.

        Raises:
            ValueError: the mark is empty, not CP866 text, or longer than
                :data:`MAX_MARK_BYTES` (checked before anything is sent).
            VatRateNotSupported: a line's VAT rate has no row in the tax table (``vat18``
                never has: it is no Russian rate); checked before anything is sent.
            TaxSystemMissing: the receipt has no tax system (taken for Azerbaijan); the
                same.
        """
        mark = ref.mark
        mark_tag = mark_tlv(mark)
        unmapped = tuple(
            dict.fromkeys(
                item.vat.code
                for item in receipt.items
                if item.vat not in self._params.tax_rate_index
            )
        )
        if unmapped:
            raise VatRateNotSupported("Shtrih", unmapped)
        if receipt.tax_system is None:
            raise TaxSystemMissing("Shtrih")
        async with self._lock:
            if self._needs_ready_check:
                short = await self._ready_status(Command.ADD_OPERATION)
                if short.mode == Mode.DOCUMENT_OPEN:
                    raise ReceiptAlreadyOpen(
                        DeviceErrorCode.RECEIPT_OPEN,
                        Command.ADD_OPERATION,
                        "a receipt is already open; cancel it first",
                    )
            try:
                closed = await self._issue(receipt, mark_tag)
            except DriverError as exc:
                self._cursor = None
                if isinstance(exc, DeviceError):
                    self._log.warning(
                        "receipt refused", command=f"0x{exc.command:X}", code=exc.code
                    )
                    await self._cancel_after_refusal()
                raise
            shift, number = await self._count_receipt(closed.fd)
            issued_at = closed.issued_at
            if issued_at is None:
                issued_at = (await self._find(closed.fd)).issued_at
            fn_serial = await self._fn()
        self._log.debug("receipt issued", fd=closed.fd, shift=shift, number=number, mark=mark)
        return IssuedReceipt(
            fn=fn_serial,
            fd=closed.fd,
            fp=closed.fp,
            shift=shift,
            number=number,
            issued_at=self._aware(issued_at),
            change=Kopecks(closed.change),
            mark=mark,
        )

    async def settle(self, ref: ReceiptRef) -> None:
        """Nothing to wait for: a Shtrih command ran or did not once the link answers.

        The register runs one command at a time and keeps no queue, so whatever was sent for
        ``ref`` is final by the time any later command is answered (recovery's reads are).
        """
        del ref

    async def cancel_receipt(self) -> None:
        """0x88: cancel the open receipt; raises ReceiptNotOpen when none is open."""
        async with self._lock:
            await self._printing(CancelReceiptRequest(password=self._op), CancelReceiptResponse)

    async def _count_receipt(self, fd: int) -> tuple[int, int]:
        """The shift and number of the receipt FF45 just closed as ``fd``.

        Counted forward when ``fd`` follows the last FD the driver accounted for (nothing
        else can have printed in between); otherwise, and after a reconnect or a failure,
        read from FF40 once.
        """
        cursor = self._cursor
        if cursor is not None and fd == cursor.fd + 1:
            shift, number = cursor.shift, cursor.number + 1
        else:
            params = await self._call(
                ReadShiftParamsRequest(password=self._sys), ReadShiftParamsResponse
            )
            shift, number = params.shift, params.receipt_number
        self._cursor = ShiftCursor(shift=shift, number=number, fd=fd)
        return shift, number

    async def _issue(self, receipt: Receipt, mark_tag: TlvItem) -> CloseReceiptResponse:
        """FF46 per line, FF0C, FF45; a correction receipt starts with FF35 and adds 1173/1174."""
        operation = OPERATION_BY_KIND[receipt.kind]
        tax_system = receipt.tax_system
        if tax_system is None:  # register() refuses it before anything is sent
            raise TaxSystemMissing("Shtrih")
        tags = [*cashier_tags(receipt.cashier), mark_tag]
        if receipt.correction is not None:
            await self._printing(
                BeginCorrectionRequest(password=self._sys), BeginCorrectionResponse
            )
            tags = [*correction_tags(receipt.correction), *tags]
        for item in receipt.items:
            await self._printing(
                AddOperationRequest(
                    password=self._op,
                    operation=operation,
                    quantity=item.qty,
                    price=item.price,
                    amount=item.amount,
                    tax_rate=self._params.tax_rate_index[item.vat],
                    department=self._params.department,
                    payment_method=int(item.method),
                    payment_subject=int(item.subject),
                    name=item.name,
                ),
                AddOperationResponse,
            )
        await self._write_tags(tags)
        if receipt.customer_contact:
            tag = tlv_string(Tag.CUSTOMER_CONTACT, receipt.customer_contact)
            await self._write_tags([tag], is_sensitive=True)
        payments = [0] * FN_PAYMENT_TYPES
        payments[PAYMENT_TYPE_CASH - 1] = receipt.payments.cash
        payments[PAYMENT_TYPE_CARD - 1] = receipt.payments.card
        payments[PAYMENT_TYPE_PREPAID - 1] = receipt.payments.prepaid
        return await self._printing(
            CloseReceiptRequest(
                password=self._sys, payments=tuple(payments), tax_system=int(tax_system)
            ),
            CloseReceiptResponse,
        )

    async def _cancel_after_refusal(self) -> None:
        """Leave the register clean after a refused receipt: cancel it if one is open."""
        try:
            short = await self._call(
                ReadShortStatusRequest(password=self._op), ReadShortStatusResponse
            )
            if short.mode == Mode.DOCUMENT_OPEN:
                await self._printing(CancelReceiptRequest(password=self._op), CancelReceiptResponse)
                self._log.info("refused receipt cancelled")
        except DriverError as exc:
            self._log.warning("could not cancel the refused receipt", error=str(exc))
