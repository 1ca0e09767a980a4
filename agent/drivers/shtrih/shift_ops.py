"""The Shtrih driver's shift and reports: FF41/0xE0, FF42/0x41 (Z), 0x40 (X), FF38.

A part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`, not used alone.
"""

from __future__ import annotations

from dataclasses import replace

from agent.domain.receipt import Cashier
from agent.drivers.errors import (
    ReceiptAlreadyOpen,
    ShiftAlreadyOpen,
    ShiftNotOpen,
    UnexpectedResponse,
)
from agent.drivers.interface import (
    CalculationStateReport,
    DocumentType,
    FiscalDocument,
    ShiftDocument,
)
from agent.drivers.shtrih.commands import (
    BeginCloseShiftRequest,
    BeginCloseShiftResponse,
    BeginOpenShiftRequest,
    BeginOpenShiftResponse,
    Command,
    DeviceErrorCode,
    FnDocumentType,
    FnErrorCode,
    Mode,
    OpenShiftRequest,
    OpenShiftResponse,
    PrintXReportRequest,
    PrintXReportResponse,
    PrintZReportRequest,
    PrintZReportResponse,
    StateReportRequest,
    StateReportResponse,
)
from agent.drivers.shtrih.driver_core import DriverCore, ShiftCursor
from agent.drivers.shtrih.registers import OPEN_MODES
from agent.drivers.shtrih.tag_builders import cashier_tags


class ShiftOps(DriverCore):
    """Shift documents and reports: open shift, Z report, X report, calculation-state report."""

    async def open_shift(self, cashier: Cashier) -> ShiftDocument:
        """FF41, FF0C (cashier), 0xE0; raises ShiftAlreadyOpen when a shift is open."""
        async with self._lock:
            short = await self._ready_status(Command.OPEN_SHIFT)
            if short.mode in OPEN_MODES:
                raise ShiftAlreadyOpen(
                    FnErrorCode.WRONG_FN_STATE,
                    Command.OPEN_SHIFT,
                    f"a shift is open (mode {short.mode})",
                )
            await self._printing(BeginOpenShiftRequest(password=self._sys), BeginOpenShiftResponse)
            await self._write_tags(cashier_tags(cashier))
            await self._printing(OpenShiftRequest(password=self._op), OpenShiftResponse)
            document = await self._last_shift_document(
                FnDocumentType.OPEN_SHIFT, Command.OPEN_SHIFT
            )
            self._open_documents[(await self._fn(), document.shift)] = FiscalDocument(
                fd=document.fd,
                type=DocumentType.OPEN_SHIFT,
                fp=document.fp,
                issued_at=document.issued_at,
                shift=document.shift,
            )
            self._cursor = ShiftCursor(shift=document.shift, number=0, fd=document.fd)
        self._log.info("shift opened", shift=document.shift, fd=document.fd)
        return document

    async def close_shift(self, cashier: Cashier) -> ShiftDocument:
        """FF42, FF0C (cashier), 0x41 Z report; raises ShiftNotOpen when no shift is open.

        A shift past 24 hours refuses FN document commands (FN 0x16), so there the Z report
        goes alone, without the cashier's tags.
        """
        async with self._lock:
            short = await self._ready_status(Command.PRINT_Z_REPORT)
            if short.mode not in OPEN_MODES:
                raise ShiftNotOpen(
                    DeviceErrorCode.SHIFT_NOT_OPEN, Command.PRINT_Z_REPORT, "no shift is open"
                )
            if short.mode == Mode.DOCUMENT_OPEN:
                raise ReceiptAlreadyOpen(
                    DeviceErrorCode.RECEIPT_OPEN, Command.PRINT_Z_REPORT, "a receipt is open"
                )
            if short.mode == Mode.SHIFT_EXPIRED:
                self._log.warning("shift past 24 h: Z report without cashier tags")
            else:
                await self._printing(
                    BeginCloseShiftRequest(password=self._sys), BeginCloseShiftResponse
                )
                await self._write_tags(cashier_tags(cashier))
            self._cursor = None
            await self._printing(PrintZReportRequest(password=self._sys), PrintZReportResponse)
            document = await self._last_shift_document(
                FnDocumentType.CLOSE_SHIFT, Command.PRINT_Z_REPORT
            )
        self._log.info("shift closed", shift=document.shift, fd=document.fd)
        return document

    async def x_report(self) -> None:
        """0x40: print an X report (no fiscal document)."""
        async with self._lock:
            await self._ready_status(Command.PRINT_X_REPORT)
            await self._printing(PrintXReportRequest(password=self._sys), PrintXReportResponse)

    async def calculation_state_report(self) -> CalculationStateReport:
        """FF38: the FN's calculation-state report, a printed FN document (FD type 21).

        It takes an FD but is no receipt: the count of receipts moves past it (the next
        receipt's FD is two past the last one counted, not one).
        """
        async with self._lock:
            await self._ready_status(Command.STATE_REPORT)
            answer = await self._printing(
                StateReportRequest(password=self._sys), StateReportResponse
            )
            cursor = self._cursor
            if cursor is not None and answer.fd == cursor.fd + 1:
                self._cursor = replace(cursor, fd=answer.fd)
            else:
                self._cursor = None
        self._log.info("calculation state report", fd=answer.fd, unsent=answer.unconfirmed)
        return CalculationStateReport(
            fd=answer.fd,
            fp=answer.fp,
            unsent_docs=answer.unconfirmed,
            oldest_unsent=answer.first_unconfirmed,
        )

    async def _last_shift_document(self, expected: FnDocumentType, command: int) -> ShiftDocument:
        fn = await self._read_fn_status()
        found = await self._find(fn.last_fd)
        if found.document_type != expected or found.shift is None:
            detail = (
                f"last FD {found.fd} is a type {found.document_type} document, not {expected.name}"
            )
            raise UnexpectedResponse(command, detail)
        return ShiftDocument(
            shift=found.shift, fd=found.fd, fp=found.fp, issued_at=self._aware(found.issued_at)
        )
