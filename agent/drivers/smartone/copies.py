"""Receipt copies the cashbox owes: fiscalised but not printed (code 15, docs/smartone-notes.md).

A receipt the cashbox answers with code 15 exists (``/check_status`` shows it closed) but its
paper did not come out: the customer has no receipt in hand. Its ``documentID`` is kept here,
and the driver asks ``/check_copy`` for it before the next receipt and at every idle reading,
until a copy prints (the cashbox answers 15 again while its printer still cannot). Kept in
memory: a copy owed when the agent stops is not printed after the restart (logged when owed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from agent.drivers.errors import DriverError
from agent.drivers.smartone.errors import DocumentNotPrinted

__all__ = ["OwedCopies"]


class OwedCopies:
    """The documents whose paper copy is owed, oldest first."""

    def __init__(self, log: structlog.typing.FilteringBoundLogger) -> None:
        self._log = log
        self._owed: dict[int, str] = {}  # documentID -> the request id (documentExtID)

    @property
    def owed(self) -> tuple[int, ...]:
        """The ``documentID``s still owed a copy, oldest first."""
        return tuple(self._owed)

    def owe(self, document_id: int, request_id: str) -> None:
        """A fiscalised receipt whose paper did not print."""
        if document_id not in self._owed:
            self._owed[document_id] = request_id
            self._log.warning(
                "receipt not printed: a copy is owed",
                document_id=document_id,
                request_id=request_id,
            )

    async def print_owed(self, send: Callable[[int], Awaitable[object]]) -> None:
        """Ask for each owed copy in turn; stop at the first the cashbox cannot print yet.

        Never raises: a copy is paper for the customer, not a fiscal act, so it never holds
        up a receipt; what failed is logged and asked again next time.
        """
        while self._owed:
            document_id, request_id = next(iter(self._owed.items()))
            log = self._log.bind(document_id=document_id, request_id=request_id)
            try:
                await send(document_id)
            except DocumentNotPrinted:
                log.info("receipt copy not printed yet")
                return
            except DriverError as exc:
                log.warning("receipt copy failed", error=exc.public_code)
                return
            del self._owed[document_id]
            log.info("receipt copy printed")
