"""The Shtrih driver's FN documents: find by FD (FF0A), read back as TLV (FF3A, FF3B).

A part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`, not used alone. The open shift's
open-shift document is found here too (cached per FN and shift).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from agent.domain.money import Kopecks
from agent.drivers.errors import DeviceError, DocumentNotFound, UnexpectedResponse
from agent.drivers.interface import DocumentType, FiscalDocument, ShiftState, ShiftView
from agent.drivers.shtrih.commands import (
    BeginReadDocumentRequest,
    BeginReadDocumentResponse,
    Command,
    FindDocumentResponse,
    FnDocumentType,
    FnErrorCode,
)
from agent.drivers.shtrih.documents import decode_document
from agent.drivers.shtrih.driver_core import DriverCore
from agent.drivers.shtrih.receipt_ops import OPERATION_BY_KIND
from agent.drivers.shtrih.registers import RECEIPT_COUNTS

_KIND_BY_OPERATION = {int(v): k for k, v in OPERATION_BY_KIND.items()}
_WHOLE_IN_HEADER = frozenset(
    {FnDocumentType.REGISTRATION, FnDocumentType.OPEN_SHIFT, FnDocumentType.CLOSE_SHIFT}
)

_MONEY_DOCUMENT_TYPES: Final = frozenset(
    {FnDocumentType.RECEIPT, FnDocumentType.BSO, FnDocumentType.CORRECTION}
)


class DocumentOps(DriverCore):
    """FN documents: found by FD (FF0A), read back whole (FF3A/FF3B), the open shift's."""

    async def find_document(self, fd: int) -> FiscalDocument:
        """FF0A; raises :class:`DocumentNotFound` when the FN has no such document."""
        async with self._lock:
            found = await self._find(fd)
        return self._fiscal_document(found)

    async def read_document(self, fd: int) -> FiscalDocument:
        """FF0A, then FF3A and FF3B unless the header already is the whole document.

        A registration or shift document holds nothing :class:`FiscalDocument` keeps beyond
        what FF0A answers, so one round trip reads it whole. Any other document (a receipt)
        is read back as TLV (docs/fn-documents.md §3) and checked against the header: the
        same FD and FP, or :class:`UnexpectedResponse`. Raises :class:`DocumentNotFound`
        when the FN has no such document.
        """
        async with self._lock:
            if self._needs_ready_check:  # after a failure: maybe a read left half done
                await self._leave_data_output()
            header = await self._find(fd)
            if header.document_type in _WHOLE_IN_HEADER:
                return replace(self._fiscal_document(header), is_whole=True)
            document = await self._read_tlv_document(fd)
        if (document.fd, document.fp) != (header.fd, header.fp):
            detail = (
                f"FF3B read FD {document.fd} FP {document.fp}; "
                f"FF0A found FD {header.fd} FP {header.fp}"
            )
            raise UnexpectedResponse(Command.READ_DOCUMENT_BLOCK, detail)
        return document

    async def shift_open_document(self, state: ShiftView) -> FiscalDocument | None:
        """The open shift's open-shift document, read back with FF0A; None with no shift.

        Cached per FN and shift, so once found it costs no round trip at all.
        """
        if state.shift is ShiftState.CLOSED:
            return None
        async with self._lock:
            key = (await self._fn(), state.shift_number)
            if key not in self._open_documents:
                found = await self._find_open_shift(state.shift_number, state.last_fd)
                self._open_documents[key] = self._fiscal_document(found)
            return self._open_documents[key]

    async def _read_tlv_document(self, fd: int) -> FiscalDocument:
        """FF3A, then FF3B until the length FF3A announced is read; decode the TLV.

        The blocks are joined before the TLV is split, so a block boundary inside a tag does
        no harm. An FN that ends the document early (FN 0x08 or an empty block) ends the read.
        """
        try:
            begun = await self._call(
                BeginReadDocumentRequest(password=self._sys, fd=fd), BeginReadDocumentResponse
            )
        except DeviceError as exc:
            if exc.code == FnErrorCode.NO_DATA:
                raise DocumentNotFound(exc.code, exc.command, fd) from exc
            raise
        data = bytearray()
        while len(data) < begun.length:
            block = await self._document_block()
            if not block:
                self._log.warning(
                    "FN ended the document before its length",
                    fd=fd,
                    length=begun.length,
                    read=len(data),
                )
                break
            data += block
        return decode_document(int(begun.document_type), bytes(data), tz=self._zone)

    def _fiscal_document(self, found: FindDocumentResponse) -> FiscalDocument:
        kind = None
        total = None
        if found.document_type in _MONEY_DOCUMENT_TYPES:
            kind = _KIND_BY_OPERATION.get(int(found.operation or 0))
            total = None if found.amount is None else Kopecks(found.amount)
        document_type: DocumentType | int = (
            DocumentType(found.document_type)
            if found.document_type in set(DocumentType)
            else int(found.document_type)
        )
        return FiscalDocument(
            fd=found.fd,
            type=document_type,
            fp=found.fp,
            issued_at=self._aware(found.issued_at),
            kind=kind,
            total=total,
            shift=found.shift,
        )

    async def _find_open_shift(self, shift: int, last_fd: int) -> FindDocumentResponse:
        """Read back from the last FD to the open-shift document of ``shift``.

        Most FDs since the shift opened are receipts, so the guess ``last FD - receipts in
        the shift`` usually hits at once; a calculation-state report in the shift makes it
        miss, and then the scan walks back one FD at a time.
        """
        receipts = 0
        for register in RECEIPT_COUNTS:
            receipts += await self._operating_register(register)
        guess = last_fd - receipts
        candidates = [guess] if 0 < guess <= last_fd else []
        limit = self._params.shift_scan_limit
        candidates += [fd for fd in range(last_fd, max(last_fd - limit, 0), -1) if fd != guess]
        for fd in candidates:
            try:
                found = await self._find(fd)
            except DocumentNotFound:
                continue
            if found.document_type == FnDocumentType.OPEN_SHIFT and found.shift == shift:
                return found
            if fd != guess and found.document_type in {
                FnDocumentType.CLOSE_SHIFT,
                FnDocumentType.OPEN_SHIFT,
            }:
                break  # walked past the start of this shift
        detail = f"no open-shift document for shift {shift} within {limit} FDs of {last_fd}"
        raise UnexpectedResponse(Command.FIND_DOCUMENT, detail)
