"""The FN tape of a shift, read back: what ``evt/document`` publishes (docs/contract.md v1.1).

A register may print documents the agent never asked for: a cashier at the keyboard, another
program on the same FN. The outbox knows every FD the agent issued; everything else on the
shift's tape is foreign and the cloud should hear of it. :func:`read_shift_tape` reads a
shift's documents back, one :meth:`FiscalDriver.read_document` per document and no more
(an FD the caller already knows can be skipped without any read);
:func:`foreign_documents` keeps those the agent did not issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from agent.drivers.errors import DocumentNotFound, MalformedPayload
from agent.drivers.interface import DocumentType, FiscalDocument, FiscalDriver

if TYPE_CHECKING:
    import structlog

    from agent.domain.money import Kopecks
    from agent.domain.receipt import Payments, ReceiptKind

__all__ = [
    "MAX_TAPE_DOCUMENTS",
    "ShiftTape",
    "TapeDocument",
    "foreign_documents",
    "read_shift_tape",
]

MAX_TAPE_DOCUMENTS: Final = 5000
"""The most FDs one reading walks back when it does not know where the shift began."""

_SHIFT_TYPES: Final = frozenset({DocumentType.OPEN_SHIFT, DocumentType.CLOSE_SHIFT})


@dataclass(frozen=True, slots=True, kw_only=True)
class TapeDocument:
    """One document of the FN tape, as read back whole.

    ``type`` is the FFD form code (a :class:`DocumentType`, or the number of one the agent
    has no name for: 31 is a correction receipt). ``kind``, ``total``, ``payments`` and
    ``mark`` are a receipt's; ``mark`` is None on a receipt printed past the agent.
    ``payments`` is the split the FN keeps (1031 cash net of change, 1081 electronic, 1215
    prepaid).
    """

    fn: str
    fd: int
    fp: int
    type: DocumentType | int
    shift: int
    issued_at: datetime
    kind: ReceiptKind | None = None
    total: Kopecks | None = None
    mark: str | None = None
    payments: Payments | None = None

    @property
    def doc_id(self) -> str:
        """``"<FN>:<FD>"``: the document's stable identifier on a Russian FN."""
        return f"{self.fn}:{self.fd}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftTape:
    """A shift's documents from its open-shift document (``first_fd``) to ``last_fd``.

    ``documents`` are in FD order, without the FDs the caller asked to skip. ``first_fd`` is
    None when the walk back did not reach the open-shift document (it was unreadable, or
    more than :data:`MAX_TAPE_DOCUMENTS` away). ``unreadable`` are FDs in the range the FN
    did not give back (no such document, or one that does not decode).
    """

    fn: str
    shift: int
    first_fd: int | None
    last_fd: int
    documents: tuple[TapeDocument, ...]
    unreadable: tuple[int, ...] = ()


def foreign_documents(
    documents: Iterable[TapeDocument], issued_fds: AbstractSet[int]
) -> tuple[TapeDocument, ...]:
    """The documents whose FD is not in ``issued_fds`` (the FDs the agent issued), in order."""
    return tuple(document for document in documents if document.fd not in issued_fds)


async def read_shift_tape(
    driver: FiscalDriver,
    *,
    fn: str,
    shift: int,
    first_fd: int | None,
    last_fd: int,
    skip: AbstractSet[int] = frozenset(),
    log: structlog.typing.FilteringBoundLogger,
) -> ShiftTape:
    """Read the documents of ``shift`` back, from ``last_fd`` down to ``first_fd``.

    Each FD is read once with :meth:`FiscalDriver.read_document`, except those in ``skip``
    (FDs of this FN the caller already knows: the agent's own receipts), which cost nothing.
    ``first_fd`` None: the walk goes back to the shift's open-shift document itself, and
    stops before a shift document of another shift. A link or device error propagates.
    """
    lowest = first_fd if first_fd is not None else max(1, last_fd - MAX_TAPE_DOCUMENTS + 1)
    found: list[TapeDocument] = []
    unreadable: list[int] = []
    reached = first_fd
    for fd in range(last_fd, lowest - 1, -1):
        if fd in skip and fd != first_fd:
            continue
        try:
            document = await driver.read_document(fd)
        except (DocumentNotFound, MalformedPayload) as exc:
            log.warning("fn_document_unreadable", fd=fd, error=str(exc))
            unreadable.append(fd)
            continue
        if first_fd is None and _is_other_shift(document, shift):
            break
        found.append(_tape_document(document, fn=fn, shift=shift))
        if first_fd is None and document.type == DocumentType.OPEN_SHIFT:
            reached = fd
            break
    found.reverse()
    unreadable.reverse()
    return ShiftTape(
        fn=fn,
        shift=shift,
        first_fd=reached,
        last_fd=last_fd,
        documents=tuple(found),
        unreadable=tuple(unreadable),
    )


def _is_other_shift(document: FiscalDocument, shift: int) -> bool:
    """A shift document of another shift: the walk back went past the shift's start."""
    return document.type in _SHIFT_TYPES and document.shift is not None and document.shift != shift


def _tape_document(document: FiscalDocument, *, fn: str, shift: int) -> TapeDocument:
    return TapeDocument(
        fn=fn,
        fd=document.fd,
        fp=document.fp,
        type=document.type,
        shift=document.shift if document.shift is not None else shift,
        issued_at=document.issued_at,
        kind=document.kind,
        total=document.total,
        mark=document.mark,
        payments=document.payments,
    )
