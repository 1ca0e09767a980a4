"""Documents the agent did not print, sent to the cloud (``evt/document``).

At each Z (the guard's or a commanded one) and on ``cmd/shift {"action": "sync_tape"}`` the
shift's FN documents are read back, one read per document, skipping the FDs of the agent's own
receipts (the outbox knows them, so they cost no round trip). What is left is a receipt
printed at the register by hand or by another program, or any other document the agent did
not make; each is queued as a FiscalDocument. Shift open and close documents are not sent
here: the shift's reports carry them (``evt/shift``).

Sending a document twice (a second ``sync_tape``) sends the same content; the cloud keys
documents by ``doc_id``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from agent.drivers.interface import DocumentType
from agent.fiscal.tape import foreign_documents
from agent.intake.document_mapping import document_to_contract
from agent.outbox.sync_queue import SyncTopic

if TYPE_CHECKING:
    import structlog

    from agent.fiscal.reports import ShiftReportData
    from agent.outbox.store import Outbox
    from agent.outbox.sync_queue import SyncQueue
    from agent.outbox.worker import FiscalWorker

__all__ = ["TapeSync"]

_ALL_FDS: Final = (1, 2**62)
"""Without a report the shift's range is known only once the tape is read: every FD of the FN."""
_SHIFT_DOCUMENTS: Final = frozenset({DocumentType.OPEN_SHIFT, DocumentType.CLOSE_SHIFT})


class TapeSync:
    """Reads a shift's tape and queues the documents that are not the agent's."""

    def __init__(
        self,
        *,
        worker: FiscalWorker,
        outbox: Outbox,
        queue: SyncQueue,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._worker = worker
        self._outbox = outbox
        self._queue = queue
        self._log = log.bind(component="tape_sync")

    async def sync(self, report: ShiftReportData | None = None) -> int:
        """Queue the foreign documents of ``report``'s shift (the current one without it).

        Returns how many were queued. The register's errors propagate (the caller decides
        whether that is the outcome of a command or a line in the log).
        """
        fn = report.fn if report is not None else self._worker.fn_serial
        issued: set[int] = set()
        if fn:
            # After a Z only that shift's FDs can be skipped; its report names the range.
            fds = (report.first_fd or 1, report.last_fd) if report is not None else _ALL_FDS
            issued = await asyncio.to_thread(self._outbox.issued_fds, fn, *fds)
        tape = await self._worker.execute(
            lambda service: service.documents_of_shift(report, skip=issued)
        )
        foreign = [
            document
            for document in foreign_documents(tape.documents, issued)
            if document.type not in _SHIFT_DOCUMENTS
        ]
        for document in foreign:
            body = document_to_contract(document).model_dump_json(exclude_none=True)
            await asyncio.to_thread(self._queue.put, SyncTopic.DOCUMENT, body)
            self._log.warning(
                "foreign_document", fn=document.fn, fd=document.fd, mark=document.mark
            )
        self._log.info(
            "tape_synced", shift=tape.shift, read=len(tape.documents), foreign=len(foreign)
        )
        return len(foreign)
