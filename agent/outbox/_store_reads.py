"""The outbox's reading side: rows by id, by state, by fiscal document, and its counts.

A mixin of :class:`agent.outbox.store.Outbox`, which holds the file and its lock; every method
here only reads, under the outbox's lock (``_read``), in one snapshot of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

from sqlite_utils import Database

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind
from agent.fiscal.reports import ShiftChange
from agent.outbox._store_sql import (
    SQL_COUNT_UNDELIVERED,
    SQL_COUNT_WITHDRAWN,
    SQL_ISSUED_FDS,
    SQL_OLDEST_ACTIVE,
    SQL_SHIFT_CHANGE,
    scalar,
    scalar_text,
    select,
)
from agent.outbox.rows import OutboxRow, OutboxStats, row_from_sql
from agent.outbox.states import RowState

__all__ = ["MAX_LIST_LIMIT", "OutboxReads"]

MAX_LIST_LIMIT: Final = 10_000


class _File(Protocol):
    """What the reading side needs of the outbox that holds the file."""

    path: Path
    _clock: Callable[[], datetime]

    def _read(self) -> AbstractContextManager[Database]: ...

    def _find(self, db: Database, row_id: str) -> OutboxRow | None: ...

    def _find_by_fd(self, db: Database, fn: str, fd: int) -> OutboxRow | None: ...


class OutboxReads:
    """The outbox's reading methods (mixed into :class:`~agent.outbox.store.Outbox`)."""

    # -- reading --------------------------------------------------------------------------

    def get(self: _File, id: str) -> OutboxRow | None:  # noqa: A002 - the contract's name
        """The row with this id, if known."""
        with self._read() as db:
            return self._find(db, id)

    def list(self: _File, *, state: RowState | None = None, limit: int = 100) -> list[OutboxRow]:
        """Rows newest first, optionally in one state."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            msg = f"limit must be 1..{MAX_LIST_LIMIT}"
            raise ValueError(msg)
        with self._read() as db:
            if state is None:
                query = select(db, "SELECT * FROM outbox ORDER BY seq DESC LIMIT ?", [limit])
            else:
                query = select(
                    db,
                    "SELECT * FROM outbox WHERE state = ? ORDER BY seq DESC LIMIT ?",
                    [state.value, limit],
                )
            return [row_from_sql(raw) for raw in query]

    def stats(self: _File) -> OutboxStats:
        """Counts by state and the age of the oldest waiting row, by the injected clock."""
        with self._read() as db:
            counts = {
                raw["state"]: raw["n"]
                for raw in select(db, "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
            }
            oldest = scalar_text(db, SQL_OLDEST_ACTIVE)
            withdrawn = scalar(db, SQL_COUNT_WITHDRAWN)
            undelivered = scalar(db, SQL_COUNT_UNDELIVERED)
        age = None
        if oldest is not None:
            age = max(0.0, (self._clock() - datetime.fromisoformat(oldest)).total_seconds())
        return OutboxStats(
            pending=counts.get(RowState.PENDING.value, 0),
            printing=counts.get(RowState.PRINTING.value, 0),
            done=counts.get(RowState.DONE.value, 0),
            rejected=counts.get(RowState.REJECTED.value, 0),
            failed=counts.get(RowState.FAILED.value, 0) - withdrawn,
            withdrawn=withdrawn,
            unknown=counts.get(RowState.UNKNOWN.value, 0),
            oldest_pending_age_s=age,
            undelivered=undelivered,
        )

    def describe(self: _File) -> dict[str, str | int]:
        """The file's durability settings and schema version, for status and support."""
        with self._read() as db:
            return {
                "path": str(self.path),
                "schema_version": scalar(db, "PRAGMA user_version"),
                "journal_mode": str(scalar_text(db, "PRAGMA journal_mode")),
                "synchronous": scalar(db, "PRAGMA synchronous"),  # 2 = FULL
            }

    # -- by fiscal document ---------------------------------------------------------------

    def find_by_fd(self: _File, fn: str, fd: int) -> OutboxRow | None:
        """The row whose result is this FN document, if any."""
        with self._read() as db:
            return self._find_by_fd(db, fn, fd)

    def shift_change(self: _File, fn: str, shift: int) -> ShiftChange:
        """The change the agent's receipts gave in one shift of one FN, by sign (done rows).

        The register keeps no shift total of change (see :class:`ShiftChange`): this is it.
        """
        with self._read() as db:
            rows = select(db, SQL_SHIFT_CHANGE, [fn, shift])
        by_kind = {row["receipt_kind"]: int(row["change"]) for row in rows}
        return ShiftChange(
            sales=Kopecks(by_kind.get(ReceiptKind.SALE.name, 0)),
            refunds=Kopecks(by_kind.get(ReceiptKind.REFUND.name, 0)),
        )

    def issued_fds(self: _File, fn: str, first_fd: int, last_fd: int) -> set[int]:
        """FDs from ``first_fd`` to ``last_fd`` of one FN that are the result of a done row."""
        with self._read() as db:
            rows = select(db, SQL_ISSUED_FDS, [fn, first_fd, last_fd])
        return {int(row["fiscal_fd"]) for row in rows}

    def _find_by_fd(self: _File, db: Database, fn: str, fd: int) -> OutboxRow | None:
        rows = list(
            select(
                db, "SELECT * FROM outbox WHERE fiscal_fd = ? AND fiscal_fn = ? LIMIT 1", [fd, fn]
            )
        )
        return row_from_sql(rows[0]) if rows else None
