"""Settling a row left in ``printing``: ask the register, record what it proves.

A receipt is settled by its mark (``FiscalService.resolve`` and :mod:`agent.fiscal.recovery`);
a cash movement, which leaves no FN document, by the drawer's balance recorded with its
intent. The worker calls this before it prints anything else (the line stop).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agent.domain.money import Kopecks
from agent.drivers.errors import CorrectionNotSupported, DriverError, NotEnoughCash
from agent.drivers.interface import ReceiptRef
from agent.fiscal import recovery
from agent.outbox.codes import REFUND_EXCEEDS_DRAWER, REFUND_EXCEEDS_DRAWER_ADVICE, error_code
from agent.outbox.orders import CashDirection, FiscalRecord
from agent.outbox.states import RowKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import structlog

    from agent.drivers.interface import IssuedReceipt
    from agent.fiscal.service import FiscalService
    from agent.outbox.store import Outbox, OutboxRow

__all__ = ["RowResolver", "receipt_record", "receipt_ref"]


class RowResolver:
    """Asks the register what became of a row in ``printing`` and records the outcome."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        service: FiscalService,
        clock: Callable[[], datetime],
        shift_number: Callable[[], int],
    ) -> None:
        self._outbox = outbox
        self._service = service
        self._clock = clock
        self._shift_number = shift_number

    async def resolve(
        self,
        row: OutboxRow,
        log: structlog.typing.FilteringBoundLogger,
        *,
        refused: DriverError | None,
    ) -> bool:
        """Ask the register what became of a row in ``printing``; True when it is final."""
        if row.kind is RowKind.CASH:
            return await self._resolve_cash(row, log, refused=refused)
        assert row.receipt is not None
        if row.fn_serial is None or row.last_fd_before is None:
            await asyncio.to_thread(
                self._outbox.mark_unknown, row.id, reason="no intent recorded for this row"
            )
            return True
        ref = receipt_ref(row)
        intent = recovery.Intent(
            fn_serial=row.fn_serial, last_fd=row.last_fd_before, mark=ref.mark, receipt=row.receipt
        )
        outcome = await self._service.resolve(intent, ref=ref)
        if isinstance(outcome, recovery.Unknown):
            await asyncio.to_thread(self._outbox.mark_unknown, row.id, reason=outcome.reason)
            log.error("receipt_outcome_unknown", reason=outcome.reason)
            return True
        if isinstance(outcome, recovery.Reprint):
            return await self._not_issued(row, outcome, log, refused=refused)
        await asyncio.to_thread(self._outbox.mark_done, row.id, fiscal=receipt_record(outcome, row))
        log.info("receipt_recovered", fd=outcome.fd, fp=outcome.fp, mark=outcome.mark)
        return True

    async def _resolve_cash(
        self,
        row: OutboxRow,
        log: structlog.typing.FilteringBoundLogger,
        *,
        refused: DriverError | None,
    ) -> bool:
        """A cash movement leaves no FN document: the drawer's balance tells what happened."""
        assert row.cash is not None
        if row.drawer_before is None:
            await asyncio.to_thread(
                self._outbox.mark_unknown, row.id, reason="no drawer balance recorded"
            )
            return True
        order = row.cash
        moved = order.amount if order.direction is CashDirection.IN else -order.amount
        drawer = await self._service.cash_drawer()
        if drawer == row.drawer_before + moved:
            record = self.cash_record(row, number=0)
            await asyncio.to_thread(self._outbox.mark_done, row.id, fiscal=record)
            log.info("cash_recovered", drawer=drawer)
            return True
        if drawer == row.drawer_before:
            if refused is not None:
                await asyncio.to_thread(
                    self._outbox.mark_rejected,
                    row.id,
                    code=error_code(refused),
                    message=str(refused),
                )
                return True
            await asyncio.to_thread(self._outbox.release, row.id)
            log.info("cash_not_moved_will_send", drawer=drawer)
            return False
        reason = (
            f"the drawer went from {row.drawer_before} to {drawer} kopecks, "
            f"which is not this movement of {moved}; check it and the X report"
        )
        await asyncio.to_thread(self._outbox.mark_unknown, row.id, reason=reason)
        log.error("cash_outcome_unknown", reason=reason)
        return True

    async def _not_issued(
        self,
        row: OutboxRow,
        outcome: recovery.Reprint,
        log: structlog.typing.FilteringBoundLogger,
        *,
        refused: DriverError | None,
    ) -> bool:
        """The FN holds no receipt for the row: print again, or end it as the refusal says."""
        if isinstance(refused, NotEnoughCash):
            # Not bad input: the drawer is short now. Failed, so that the same request,
            # sent again after a cash-in, is taken again and printed under its own id.
            await asyncio.to_thread(
                self._outbox.mark_failed,
                row.id,
                code=REFUND_EXCEEDS_DRAWER,
                message=REFUND_EXCEEDS_DRAWER_ADVICE,
            )
            log.warning("receipt_failed", error=REFUND_EXCEEDS_DRAWER)
            return True
        if isinstance(refused, CorrectionNotSupported):
            # Nothing is wrong with the request: this register's driver cannot issue the
            # correction a late payment needs. Failed, for a person (docs/corrections.md).
            await asyncio.to_thread(
                self._outbox.mark_failed, row.id, code=error_code(refused), message=str(refused)
            )
            log.warning("receipt_failed", error=error_code(refused))
            return True
        if refused is not None:
            await asyncio.to_thread(
                self._outbox.mark_rejected,
                row.id,
                code=error_code(refused),
                message=str(refused),
            )
            log.warning("receipt_rejected", error=error_code(refused))
            return True
        await asyncio.to_thread(self._outbox.release, row.id)
        log.info("receipt_not_issued_will_print", cancelled=outcome.cancel_open_receipt)
        return False

    def cash_record(self, row: OutboxRow, *, number: int) -> FiscalRecord:
        """A cash movement's result: no FD or FP, the register's document number if known."""
        assert row.cash is not None
        info = self._service.info
        return FiscalRecord(
            fn=info.fn_serial if info else "",
            fd=0,
            fp=0,
            shift=self._shift_number(),
            number=number,
            issued_at=self._clock(),
            total=row.cash.amount,
            change=Kopecks(0),
        )


def receipt_ref(row: OutboxRow) -> ReceiptRef:
    """What the driver is told of a row's receipt: its id, its mark (the id) and its try.

    The try is the row's ``print_attempt``: one more at each intent, so a new number only
    after the try before was settled as not issued (docs/exactly-once.md). A row left
    printing by an agent from before the column (0) is its first try.
    """
    return ReceiptRef(id=row.id, mark=row.id, attempt=max(1, row.print_attempt))


def receipt_record(issued: IssuedReceipt, row: OutboxRow) -> FiscalRecord:
    """The result to store for a receipt the FN signed (or that recovery proved issued)."""
    assert row.receipt is not None
    return FiscalRecord(
        fn=issued.fn,
        fd=issued.fd,
        fp=issued.fp,
        shift=issued.shift,
        number=issued.number,
        issued_at=issued.issued_at,
        total=row.receipt.total,
        change=issued.change,
        mark=issued.mark,
        type="receipt" if row.receipt.correction is None else "correction",
        doc_id=issued.doc_id,
    )
