"""What became of a receipt that was being printed: the register asked, the mark judged.

The fiscal service's recovery, apart from the service itself: settle the request on the device
(:meth:`FiscalDriver.settle`), then read every document after the intent's FD back whole and
let :func:`agent.fiscal.recovery.decide` judge by the mark; or, on a device that keeps
receipts by the request's key (:class:`FindsReceiptsByRequest`, SmartOne), ask it for the
request and let :func:`agent.fiscal.recovery.decide_by_request` judge (docs/exactly-once.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from agent.drivers.errors import DocumentNotFound
from agent.drivers.interface import (
    RECEIPT_TYPES,
    DocumentType,
    FindsReceiptsByRequest,
    FiscalDocument,
    FiscalDriver,
    IssuedReceipt,
    ReceiptRef,
    ShiftView,
)
from agent.fiscal import recovery

if TYPE_CHECKING:
    import structlog

__all__ = ["MAX_SCAN_DOCUMENTS", "ReceiptResolver"]

MAX_SCAN_DOCUMENTS: Final = 5000
"""More documents than this since the intent: too many to read back, a person decides."""


class ReceiptResolver:
    """Resolves one receipt left ``printing``; built by the service for each resolution."""

    def __init__(
        self,
        *,
        driver: FiscalDriver,
        log: structlog.typing.FilteringBoundLogger,
        shift_open_document: Callable[[ShiftView], Awaitable[FiscalDocument | None]],
    ) -> None:
        self._driver = driver
        self._log = log
        self._shift_open_document = shift_open_document

    async def resolve(
        self, intent: recovery.Intent, *, ref: ReceiptRef
    ) -> IssuedReceipt | recovery.Reprint | recovery.Unknown:
        """Ask the register what became of a receipt that was being printed.

        First waits until nothing sent for ``ref`` (every try up to ``ref.attempt``) can
        still run on the device (:meth:`FiscalDriver.settle`), then reads every document
        after the intent's FD back whole and lets :func:`agent.fiscal.recovery.decide`
        judge by the mark. A driver error other than a missing document propagates (settle's
        included): the caller retries, and prints nothing else meanwhile.
        """
        await self._driver.settle(ref)
        if isinstance(self._driver, FindsReceiptsByRequest):
            return await self._resolve_by_request(self._driver, intent, ref)
        # The FN's serial, last FD and open document in one reading (FF01 on a Shtrih).
        state = await self._driver.read_ledger()
        documents: list[FiscalDocument] = []
        unreadable = None
        new_docs = state.last_fd - intent.last_fd
        if new_docs > MAX_SCAN_DOCUMENTS:
            return recovery.Unknown(f"{new_docs} documents since the recorded FD; too many to scan")
        if state.fn_serial == intent.fn_serial:
            for fd in range(intent.last_fd + 1, state.last_fd + 1):
                try:
                    documents.append(await self._driver.read_document(fd))
                except DocumentNotFound:
                    # A gap makes the decision "unknown": never guess past an unreadable FD.
                    self._log.warning("fn_document_unreadable", fd=fd)
                    unreadable = fd
                    break
        facts = recovery.Facts(
            fn_serial=state.fn_serial,
            last_fd=state.last_fd,
            is_receipt_open=state.is_receipt_open,
            documents=tuple(documents),
            unreadable=unreadable,
        )
        decision = recovery.decide(intent, facts)
        self._log.info(
            "recovery_decided",
            decision=type(decision).__name__.lower(),
            intent_fd=intent.last_fd,
            last_fd=state.last_fd,
        )
        if isinstance(decision, recovery.Reprint):
            if decision.cancel_open_receipt:
                await self._driver.cancel_receipt()
            return decision
        if isinstance(decision, recovery.Unknown):
            return decision
        document = decision.document
        return _issued(
            intent,
            document,
            shift=document.shift
            if document.shift is not None
            else _shift_of(document, documents, state),
            number=document.number
            if document.number is not None
            else await self._receipt_number(document, documents, state),
        )

    async def _resolve_by_request(
        self, driver: FindsReceiptsByRequest, intent: recovery.Intent, ref: ReceiptRef
    ) -> IssuedReceipt | recovery.Reprint | recovery.Unknown:
        """:meth:`resolve` on a device that keeps receipts by the request's key (SmartOne)."""
        document = await driver.find_receipt(ref)
        decision = recovery.decide_by_request(intent, document)
        self._log.info(
            "recovery_decided",
            decision=type(decision).__name__.lower(),
            by="request",
            doc_id=document.doc_id if document is not None else None,
        )
        if not isinstance(decision, recovery.Issued):
            return decision
        found = decision.document
        return _issued(
            intent,
            found,
            shift=found.shift if found.shift is not None else 0,
            number=found.number if found.number is not None else 0,
        )

    async def _receipt_number(
        self, document: FiscalDocument, known: list[FiscalDocument], state: ShiftView
    ) -> int:
        """The receipt's number within its shift: the receipts since the open-shift document.

        Counted one FD at a time, never as ``FD - open-shift FD``: a shift holds documents
        that are no receipts (a calculation-state report, FD type 21), so FD arithmetic
        would number the receipt after one wrong. Only reached for a receipt read without
        its number (tag 1042); FDs already read are not asked again.
        """
        open_doc = await self._shift_open_document(state)
        is_shift_changed = any(
            doc.fd > document.fd and doc.type in (DocumentType.OPEN_SHIFT, DocumentType.CLOSE_SHIFT)
            for doc in known
        )
        by_fd = {doc.fd: doc for doc in known}
        if open_doc is not None and not is_shift_changed:
            by_fd.setdefault(open_doc.fd, open_doc)
        number = 1
        lowest = max(1, document.fd - MAX_SCAN_DOCUMENTS)
        for fd in range(document.fd - 1, lowest - 1, -1):
            earlier = by_fd.get(fd) or await self._driver.find_document(fd)
            if earlier.type in (DocumentType.OPEN_SHIFT, DocumentType.CLOSE_SHIFT):
                return number
            if earlier.type in RECEIPT_TYPES:
                number += 1
        return number


def _issued(
    intent: recovery.Intent, document: FiscalDocument, *, shift: int, number: int
) -> IssuedReceipt:
    """The receipt recovery found for the intent, as the driver would have reported it."""
    return IssuedReceipt(
        fn=intent.fn_serial,
        fd=document.fd,
        fp=document.fp,
        shift=shift,
        number=number,
        issued_at=document.issued_at,
        change=intent.receipt.change,
        mark=document.mark,
        doc_id=document.doc_id,  # None on an FN: "<FN>:<FD>" then
    )


def _shift_of(document: FiscalDocument, documents: list[FiscalDocument], state: ShiftView) -> int:
    """The shift a recovered receipt belongs to: a later close names it, else the current."""
    for later in documents:
        if later.fd > document.fd and later.type == DocumentType.CLOSE_SHIFT:
            return later.shift if later.shift is not None else state.shift_number
    return state.shift_number
