"""The durable sync queue: what the agent owes the cloud, in the outbox's own SQLite file.

Every result the CRM and the cloud must hear of waits here until the broker acknowledged it:
ReceiptResults and cash outcomes (by reference to their outbox row), shift reports, the
outcomes of shift commands, documents the agent did not print, and rejections of commands it
could not take. It lives in the outbox's file so that a row's move to a published state and
its entry here are one transaction: a crash can never leave a result that is stored but
never sent.

Delivery is at least once, in queue order: the publisher sends entries oldest first and
removes each when the broker acknowledged it; after a reconnect or a restart it starts again
at the oldest entry left. A result may therefore arrive twice, always with the same content
for the same state of its row (the cloud deduplicates).

Bound: fiscal entries (results, reports, documents, command outcomes) are never dropped; the
outbox's own bound (``max_pending``) limits how fast they can grow, and a broker gone for a
week of a busy club's receipts is a few megabytes. Entries marked droppable (rejections of
bad input, which carry no fiscal result) are capped at ``max_droppable``: the oldest go
first. Health is never queued: it is live state, published retained by the link.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Protocol

from sqlite_utils import Database

from agent.outbox.states import RowKind, RowState

__all__ = [
    "DEFAULT_MAX_DROPPABLE",
    "PUBLISHED_STATES",
    "SYNC_QUEUE_SCHEMA",
    "SyncEntry",
    "SyncQueue",
    "SyncStats",
    "SyncTopic",
    "enqueue_in",
    "enqueue_result_in",
    "enqueue_row_in",
]

DEFAULT_MAX_DROPPABLE: Final = 10_000

PUBLISHED_STATES: Final = frozenset(
    {RowState.DONE, RowState.REJECTED, RowState.FAILED, RowState.UNKNOWN}
)
"""A row that moves into one of these states owes the cloud its result."""


class SyncTopic(Enum):
    """What an entry is; the MQTT adapter publishes it on ``evt/<value>``."""

    RECEIPT = "receipt"  # a receipt row's ReceiptResult (by reference)
    COMMAND = "command"  # a cash row's or a shift command's outcome
    SHIFT = "shift"  # a ShiftReport
    DOCUMENT = "document"  # an FN document the agent did not print
    REJECTED = "rejected"  # a command that could not be taken under its own id


SYNC_QUEUE_SCHEMA: Final = """
    CREATE TABLE sync_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        ref TEXT,
        payload TEXT,
        droppable INTEGER NOT NULL DEFAULT 0,
        queued_at TEXT NOT NULL
    );
    CREATE INDEX sync_queue_droppable ON sync_queue (droppable, seq);
    INSERT INTO sync_queue (topic, ref, queued_at)
        SELECT CASE kind WHEN 'cash' THEN 'command' ELSE 'receipt' END, id, updated_at
        FROM outbox
        WHERE delivered_at IS NULL AND state IN ('done', 'rejected', 'failed', 'unknown')
        ORDER BY seq;
"""
"""Migration 4's sync queue; rows a v3 file holds undelivered are queued in their order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncEntry:
    """One thing owed to the cloud: a reference to an outbox row, or a ready payload."""

    seq: int
    topic: SyncTopic
    ref: str | None  # the outbox row id whose current result this is
    payload: str | None  # JSON, for entries that are not an outbox row's result
    queued_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncStats:
    """The queue's depth and the age of its oldest entry, by the injected clock."""

    pending: int
    oldest_pending_age_s: float | None
    dropped: int  # droppable entries dropped to keep the bound, since this process started


class Transactions(Protocol):
    """What the queue needs of the outbox: its transactions on the shared file and its clock."""

    def transaction(self) -> AbstractContextManager[Database]: ...

    def reading(self) -> AbstractContextManager[Database]: ...

    def now_text(self) -> str: ...

    def mark_queued(self) -> None: ...


def row_topic(kind: RowKind) -> SyncTopic:
    """A receipt row's result goes to evt/receipt, a cash row's outcome to evt/command."""
    return SyncTopic.COMMAND if kind is RowKind.CASH else SyncTopic.RECEIPT


def enqueue_row_in(db: Database, row_id: str, kind: RowKind, now: str) -> None:
    """Queue a row's result inside the caller's transaction; the row owes it afresh."""
    enqueue_result_in(db, row_id, kind, now)
    db.conn.execute("UPDATE outbox SET delivered_at = NULL WHERE id = ?", [row_id])


def enqueue_result_in(db: Database, row_id: str, kind: RowKind, now: str) -> None:
    """Queue a row's result inside the caller's transaction, its row already owing it.

    The caller's own UPDATE of the row sets its ``delivered_at`` to NULL (a move of the row
    does, in the same statement).
    """
    db.conn.execute(
        "INSERT INTO sync_queue (topic, ref, queued_at) VALUES (?, ?, ?)",
        [row_topic(kind).value, row_id, now],
    )


def enqueue_in(
    db: Database, topic: SyncTopic, payload: str, now: str, *, droppable: bool = False
) -> int:
    """Queue a ready payload inside the caller's transaction; returns its seq."""
    cursor = db.conn.execute(
        "INSERT INTO sync_queue (topic, payload, droppable, queued_at) VALUES (?, ?, ?, ?)",
        [topic.value, payload, int(droppable), now],
    )
    return int(cursor.lastrowid or 0)


class SyncQueue:
    """The queue's API for the publisher and the adapters (blocking: call via to_thread)."""

    def __init__(
        self,
        store: Transactions,
        *,
        clock: Callable[[], datetime],
        max_droppable: int = DEFAULT_MAX_DROPPABLE,
    ) -> None:
        if max_droppable < 1:
            msg = "max_droppable must be at least 1"
            raise ValueError(msg)
        self._store = store
        self._clock = clock
        self._max_droppable = max_droppable
        self.dropped = 0

    def put(self, topic: SyncTopic, payload: str, *, droppable: bool = False) -> int:
        """Queue a payload, committed and fsync'd on return; returns its seq.

        A droppable entry beyond the bound pushes out the oldest droppable one.
        """
        with self._store.transaction() as db:
            seq = enqueue_in(db, topic, payload, self._store.now_text(), droppable=droppable)
            self._store.mark_queued()
            if droppable:
                self.dropped += _drop_over(db, self._max_droppable)
            return seq

    def put_row(self, row_id: str, kind: RowKind) -> None:
        """Queue a row's current result again (a CRM asked again for a final request)."""
        with self._store.transaction() as db:
            enqueue_row_in(db, row_id, kind, self._store.now_text())
            self._store.mark_queued()

    def batch(self, *, after: int = 0, limit: int = 100) -> list[SyncEntry]:
        """The oldest entries with a seq above ``after``, in queue order."""
        with self._store.reading() as db:
            cursor = db.conn.execute(
                "SELECT seq, topic, ref, payload, queued_at FROM sync_queue"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                [after, limit],
            )
            return [_entry(values) for values in cursor.fetchall()]

    def acknowledge(self, entry: SyncEntry) -> None:
        """The broker has it: remove the entry; a final row's result counts as delivered."""
        self.acknowledge_many([entry])

    def acknowledge_many(self, entries: list[SyncEntry]) -> None:
        """:meth:`acknowledge` for several entries in one transaction (one fsync)."""
        with self._store.transaction() as db:
            now = self._store.now_text()
            for entry in entries:
                db.conn.execute("DELETE FROM sync_queue WHERE seq = ?", [entry.seq])
            for ref in {entry.ref for entry in entries if entry.ref is not None}:
                still_owed = db.conn.execute(
                    "SELECT 1 FROM sync_queue WHERE ref = ? LIMIT 1", [ref]
                ).fetchone()
                if still_owed is None:
                    db.conn.execute(
                        "UPDATE outbox SET delivered_at = ? WHERE id = ? AND state IN"
                        " ('done', 'rejected', 'failed')",
                        [now, ref],
                    )

    def stats(self) -> SyncStats:
        """Depth and oldest age now."""
        with self._store.reading() as db:
            count, oldest = db.conn.execute(
                "SELECT COUNT(*), MIN(queued_at) FROM sync_queue"
            ).fetchone()
        age = None
        if oldest is not None:
            age = max(0.0, (self._clock() - datetime.fromisoformat(oldest)).total_seconds())
        return SyncStats(pending=int(count), oldest_pending_age_s=age, dropped=self.dropped)


def _drop_over(db: Database, bound: int) -> int:
    (count,) = db.conn.execute("SELECT COUNT(*) FROM sync_queue WHERE droppable = 1").fetchone()
    excess = int(count) - bound
    if excess <= 0:
        return 0
    db.conn.execute(
        "DELETE FROM sync_queue WHERE seq IN"
        " (SELECT seq FROM sync_queue WHERE droppable = 1 ORDER BY seq LIMIT ?)",
        [excess],
    )
    return excess


def _entry(values: tuple[Any, ...]) -> SyncEntry:
    seq, topic, ref, payload, queued_at = values
    return SyncEntry(
        seq=int(seq),
        topic=SyncTopic(topic),
        ref=ref,
        payload=payload,
        queued_at=datetime.fromisoformat(queued_at),
    )
