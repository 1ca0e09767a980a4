"""The durable outbox: every accepted request, keyed by its id, on SQLite.

Durability. One connection (``check_same_thread=False``) behind a re-entrant lock; the
worker and the adapters call this blocking API through ``asyncio.to_thread``, or, for a
read, on the event loop when no other thread holds the file (:meth:`Outbox.held_if_free`,
agent/outbox/loop_reads.py). The file is in
WAL mode with ``synchronous=FULL``: a method that writes returns only after its transaction
is committed and fsync'd, so an adapter that acknowledges (PUBACK, HTTP 202) after
``submit_*`` returns never acknowledges something a power cut can take back (WAL with NORMAL
can lose the last commits, and power loss is the common case at a club). Writes take the
write lock up front (``BEGIN IMMEDIATE``) so another connection to the same file (the sync
queue, ``fiscal-agent status``) waits instead of failing half-way. The schema carries its
version in ``PRAGMA user_version`` and is migrated forward on open; a file from a newer
agent is refused.

Idempotency. The request id is UNIQUE. A known id with the same content fingerprint is a
DUPLICATE (the stored row is returned, nothing is written); with another fingerprint it is a
CONFLICT (``id_conflict``). Ids stay known until their row is pruned (see below).

Bound policy.

- New requests are refused (FULL, nothing stored) once ``max_pending`` rows are pending or
  printing. The caller answers "try later" (HTTP 503, no PUBACK so the broker redelivers).
- Final rows (done, rejected, failed) are pruned by :meth:`Outbox.prune` only when BOTH
  their last change is older than ``retention`` AND the sync link confirmed their delivery
  (``delivered_at`` set by :meth:`Outbox.mark_delivered`).
- Undelivered final rows and unknown rows are never pruned, pending and printing rows
  neither. Nothing that holds a fiscal result is ever dropped to make room: when the cloud is
  unreachable for a long time the file grows (a few hundred bytes a receipt).
- A pruned id is forgotten: the idempotency window is ``retention`` after the result was
  delivered.

Times are stored as UTC ISO 8601 text from the injected clock; the register's ``issued_at``
keeps its own offset.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final

from sqlite_utils import Database

from agent.domain.receipt import Correction, Receipt
from agent.outbox._store_reads import OutboxReads
from agent.outbox._store_sql import (
    SQL_COUNT_ACTIVE,
    SQL_DELIVERED,
    SQL_FIRST_IN_STATE,
    SQL_PRUNE,
    Increment,
    scalar,
    select,
    utc_text,
)
from agent.outbox.codec import cash_to_json, receipt_to_json
from agent.outbox.codes import QUEUE_EXPIRED
from agent.outbox.errors import (
    FdTaken,
    OutboxClosed,
    OutboxError,
    RowNotFound,
    SchemaTooNew,
    StorageUnavailable,
)
from agent.outbox.orders import CashOrder, FiscalRecord
from agent.outbox.rows import (
    OutboxRow,
    OutboxStats,
    Settlement,
    Submission,
    SubmissionStatus,
    aware,
    fiscal_columns,
    row_from_sql,
)
from agent.outbox.schema import SCHEMA_VERSION, migrate
from agent.outbox.states import (
    IllegalTransition,
    RowEvent,
    RowKind,
    RowState,
    transition,
)
from agent.outbox.sync_queue import PUBLISHED_STATES, enqueue_result_in

__all__ = [
    "BUSY_TIMEOUT_S",
    "DEFAULT_MAX_PENDING",
    "DEFAULT_RETENTION",
    "SCHEMA_VERSION",
    "FdTaken",
    "FiscalRecord",
    "Outbox",
    "OutboxClosed",
    "OutboxError",
    "OutboxRow",
    "OutboxStats",
    "RowNotFound",
    "SchemaTooNew",
    "Settlement",
    "StorageUnavailable",
    "Submission",
    "SubmissionStatus",
]

DEFAULT_MAX_PENDING: Final = 10_000
DEFAULT_RETENTION: Final = timedelta(days=90)
BUSY_TIMEOUT_S: Final = 5.0
"""How long a write waits for another connection's write lock on the same file."""
PAGE_SIZE_BYTES: Final = 512
"""SQLite page size of a new file (an existing file keeps its own: SQLite cannot change it in
WAL mode). Each commit writes every page it changed to the WAL, whole: the header, the
sequence, an index leaf are 512 bytes each instead of 1 or 4 KiB. A row is longer than a
page and spills into an overflow page, which SQLite handles within the same transaction.
Measured on the worker's commits: 17.3 KiB per receipt, against 21.6 KiB with 1 KiB pages and
about 57 KiB with 4 KiB pages; no measurable CPU difference."""
WAL_CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
"""How large the WAL grows before SQLite copies it into the file (its default is 1,000 pages,
1 MiB at 1 KiB pages). A checkpoint writes every page the WAL changed once, so a longer
interval writes the hot pages (indexes, the queue, the header) fewer times: about 0.5 KiB
less per receipt, for a WAL file of at most a few MiB."""


class Outbox(OutboxReads):
    """The durable outbox on one SQLite file (see the module docstring for the policy)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime],
        max_pending: int = DEFAULT_MAX_PENDING,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        if max_pending < 1:
            msg = "max_pending must be at least 1"
            raise ValueError(msg)
        if retention <= timedelta(0):
            msg = "retention must be positive"
            raise ValueError(msg)
        self.path = path
        self._clock = clock
        self._max_pending = max_pending
        self._retention = retention
        self._lock = threading.RLock()  # re-entrant for held_if_free
        self._queue_listeners: list[Callable[[], None]] = []
        self._result_listeners: list[Callable[[RowKind, RowState], None]] = []
        self._after_commit: list[Callable[[], None]] = []  # what the open transaction will tell
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
            )
        except (OSError, sqlite3.Error) as exc:
            raise StorageUnavailable(path, exc) from exc
        self._db: Database | None = Database(conn)
        try:
            # Small pages for a new file: each commit appends the pages it changed to the WAL,
            # and an SD card wears by the bytes written (docs/exactly-once.md, "Disk").
            self._db.execute(f"PRAGMA page_size = {PAGE_SIZE_BYTES}")
            self._db.enable_wal()
            self._db.execute("PRAGMA synchronous=FULL")
            page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            self._db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page_size}")
            self._migrate(self._db)
        except sqlite3.OperationalError as exc:
            conn.close()
            raise StorageUnavailable(path, exc) from exc
        except BaseException:
            conn.close()
            raise

    # -- submit ---------------------------------------------------------------------------

    def submit_receipt(self, id: str, receipt: Receipt, fingerprint: str) -> Submission:  # noqa: A002 - the contract's name
        """Store a receipt request; committed and fsync'd before an ACCEPTED return."""
        paid_at = None if receipt.paid_at is None else aware(receipt.paid_at, "paid_at")
        return self._submit(
            id,
            RowKind.RECEIPT,
            receipt_to_json(receipt),
            fingerprint,
            receipt,
            paid_at=None if paid_at is None else paid_at.isoformat(),
        )

    def submit_cash(self, id: str, order: CashOrder, fingerprint: str) -> Submission:  # noqa: A002 - the contract's name
        """Store a cash order; committed and fsync'd before an ACCEPTED return."""
        return self._submit(id, RowKind.CASH, cash_to_json(order), fingerprint, order)

    def _submit(
        self,
        row_id: str,
        kind: RowKind,
        payload: str,
        fingerprint: str,
        decoded: Receipt | CashOrder,
        *,
        paid_at: str | None = None,
    ) -> Submission:
        if not row_id:
            msg = "the id must not be empty"
            raise ValueError(msg)
        with self._write() as db:
            existing = self._find(db, row_id)
            if existing is not None and existing.fingerprint != fingerprint:
                return Submission(status=SubmissionStatus.CONFLICT, row=existing)
            if existing is not None and existing.state is not RowState.FAILED:
                return Submission(status=SubmissionStatus.DUPLICATE, row=existing)
            if existing is not None:
                retaken = self._move_in(
                    db, existing, RowEvent.RESUBMIT, error_code=None, error_message=None
                )
                return Submission(status=SubmissionStatus.RETAKEN, row=retaken)
            active = scalar(db, SQL_COUNT_ACTIVE)
            if active >= self._max_pending:
                return Submission(status=SubmissionStatus.FULL, row=None)
            now = self._now()
            inserted = select(
                db,
                "INSERT INTO outbox (id, kind, state, payload, fingerprint, accepted_at,"
                " updated_at, paid_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                [
                    row_id,
                    kind.value,
                    RowState.PENDING.value,
                    payload,
                    fingerprint,
                    now,
                    now,
                    paid_at,
                ],
            )
            row = row_from_sql(inserted[0], decoded=decoded)
            return Submission(status=SubmissionStatus.ACCEPTED, row=row)

    # -- the worker's side ----------------------------------------------------------------

    def next_work_and_more(self) -> tuple[OutboxRow | None, bool]:
        """The row the worker takes next, and whether another row waits behind it.

        Next: a row left in ``printing`` first, else the oldest pending. Each an index range
        of at most two rows, so a backlog of thousands costs no more than one row (a single
        query ordered by state sorted every waiting row: 4 ms at 10,000). Cheap enough for
        the event loop (agent/outbox/loop_reads.py).
        """
        with self._read() as db:
            rows = select(db, SQL_FIRST_IN_STATE, [RowState.PRINTING.value, 2])
            if len(rows) < 2:
                rows += select(db, SQL_FIRST_IN_STATE, [RowState.PENDING.value, 2 - len(rows)])
            return (row_from_sql(rows[0]) if rows else None), len(rows) > 1

    def next_pending(self) -> OutboxRow | None:
        """The oldest pending row, in accept order (FIFO)."""
        with self._read() as db:
            rows = select(db, SQL_FIRST_IN_STATE, [RowState.PENDING.value, 1])
            return row_from_sql(rows[0]) if rows else None

    def in_flight(self) -> list[OutboxRow]:
        """Rows in printing, oldest first: what crash recovery must resolve."""
        with self._read() as db:
            query = select(
                db, "SELECT * FROM outbox WHERE state = ? ORDER BY seq", [RowState.PRINTING.value]
            )
            return [row_from_sql(raw) for raw in query]

    def mark_printing(
        self,
        id: str,  # noqa: A002 - the contract's name
        *,
        fn_serial: str,
        last_fd: int,
        drawer: int | None = None,
        correction: Correction | None = None,
    ) -> OutboxRow:
        """Record the intent: about to send, with the FN and its last FD before sending.

        A cash movement issues no FD, so its intent also records the drawer's balance. A
        receipt printed late records the correction it is sent as (the settlement date it
        names): recovery then looks for a correction receipt, and the row's receipt carries it.
        """
        return self._move(
            id,
            RowEvent.PRINT,
            fn_serial=fn_serial,
            last_fd_before=last_fd,
            drawer_before=drawer,
            correction_on=None if correction is None else correction.settled_on.isoformat(),
            print_attempt=Increment(),
        )

    def mark_done_and_printing(
        self,
        done_id: str,
        *,
        fiscal: FiscalRecord,
        id: str,  # noqa: A002 - the contract's name
        fn_serial: str,
        last_fd: int,
        correction: Correction | None = None,
    ) -> OutboxRow:
        """:meth:`mark_done` of ``done_id`` and :meth:`mark_printing` of ``id``, one transaction.

        One commit (one fsync) for the result of a receipt and the intent of the next: no
        moment on disk has both rows in ``printing``, and neither move is stored without the
        other (a failure rolls both back). Returns the row now ``printing``. ``correction``:
        as for :meth:`mark_printing`, the correction the next receipt is sent as.
        """
        with self._write() as db:
            self._move_in_by_id(
                db,
                done_id,
                RowEvent.ISSUE,
                {**fiscal_columns(fiscal), "error_code": None, "error_message": None},
            )
            columns = {
                "fn_serial": fn_serial,
                "last_fd_before": last_fd,
                "drawer_before": None,
                "correction_on": None if correction is None else correction.settled_on.isoformat(),
                "print_attempt": Increment(),
            }
            return self._move_in_by_id(db, id, RowEvent.PRINT, columns)

    def mark_done(self, id: str, *, fiscal: FiscalRecord) -> OutboxRow:  # noqa: A002 - the contract's name
        """The register signed the document (or a person found it signed)."""
        return self._move(
            id, RowEvent.ISSUE, **fiscal_columns(fiscal), error_code=None, error_message=None
        )

    def settle_issued(
        self,
        id: str,  # noqa: A002 - the contract's name
        *,
        fiscal: FiscalRecord,
        by: str,
        reason: str = "",
    ) -> OutboxRow:
        """A person found the unknown row's document: done, with who and when."""
        with self._write() as db:
            row = self._get(db, id)
            other = self._find_by_fd(db, fiscal.fn, fiscal.fd)
            if other is not None and other.id != id:
                raise FdTaken(fiscal.fn, fiscal.fd, other.id)
            return self._move_in(
                db,
                row,
                RowEvent.ISSUE,
                **fiscal_columns(fiscal),
                error_code=None,
                error_message=None,
                **self._settled("issued", by, reason),
            )

    def settle_not_issued(self, id: str, *, by: str, reason: str = "") -> OutboxRow:  # noqa: A002 - the contract's name
        """A person found no document for the unknown row: it is printed again."""
        with self._write() as db:
            row = self._get(db, id)
            return self._move_in(
                db,
                row,
                RowEvent.SETTLE_NOT_ISSUED,
                fn_serial=None,
                last_fd_before=None,
                drawer_before=None,
                error_code=None,
                error_message=None,
                **self._settled("not_issued", by, reason),
            )

    def _settled(self, settled_as: str, by: str, reason: str) -> dict[str, object]:
        return {
            "settled_as": settled_as,
            "settled_by": by,
            "settled_at": self._now(),
            "settled_reason": reason,
        }

    def mark_rejected(self, id: str, *, code: str, message: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """Bad input: never retried."""
        return self._move(id, RowEvent.REJECT, error_code=code, error_message=message)

    def mark_failed(self, id: str, *, code: str, message: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """Given up: nothing was issued (or a person decided so)."""
        return self._move(id, RowEvent.FAIL, error_code=code, error_message=message)

    def withdraw(self, id: str, *, message: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """Fail a row only while it is still ``pending`` (nothing sent); else leave it as it is.

        The row's code is :data:`~agent.outbox.codes.QUEUE_EXPIRED`; such rows are counted
        apart from other failures (:attr:`OutboxStats.withdrawn`): the caller was told.

        One write transaction against the worker's :meth:`mark_printing`: either the row is
        withdrawn and never printed, or it reached the register and is never withdrawn.
        """
        with self._write() as db:
            row = self._get(db, id)
            if row.state is not RowState.PENDING:
                return row
            return self._move_in(
                db, row, RowEvent.FAIL, error_code=QUEUE_EXPIRED, error_message=message
            )

    def mark_unknown(self, id: str, *, reason: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """Cannot tell whether a document was issued: park it for a person."""
        return self._move(
            id, RowEvent.LOSE_TRACK, error_code="outcome_unknown", error_message=reason
        )

    def release(self, id: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """Printing → pending: recovery found nothing issued, so it is printed again."""
        return self._move(
            id, RowEvent.RELEASE, fn_serial=None, last_fd_before=None, drawer_before=None
        )

    def note_attempt(self, id: str, *, error_code: str, message: str) -> OutboxRow:  # noqa: A002 - the contract's name
        """One more failed attempt and its error; the state stays."""
        return self._move(
            id,
            RowEvent.ATTEMPT,
            attempts=Increment(),
            error_code=error_code,
            error_message=message,
        )

    # -- housekeeping ---------------------------------------------------------------------

    def mark_delivered(self, ids: Iterable[str]) -> None:
        """The sync link confirmed these results; only final rows are marked, others ignored."""
        with self._write() as db:
            now = self._now()
            db.conn.executemany(
                SQL_DELIVERED,
                [(now, row_id) for row_id in ids],
            )

    def prune(self) -> int:
        """Delete final rows older than the retention AND delivered; return how many."""
        with self._write() as db:
            cutoff = utc_text(self._clock() - self._retention)
            cursor = db.execute(SQL_PRUNE, [cutoff])
            return cursor.rowcount

    def close(self) -> None:
        """Close the file; later calls raise :class:`OutboxClosed`."""
        with self._lock:
            if self._db is not None:
                self._db.conn.close()
                self._db = None

    def next_boot(self) -> int:
        """Count one more start of the agent and return it (Health ``boot``, kept on disk)."""
        with self._write() as db:
            found = db.conn.execute("SELECT value FROM agent_meta WHERE key = 'boot'").fetchone()
            boot = int(found[0]) + 1 if found else 1
            db.conn.execute(
                "INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('boot', ?)", [str(boot)]
            )
            return boot

    # -- the file, for the sync queue and the shift commands that share it -----------------

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """A write transaction on the outbox's file, committed and fsync'd when it ends."""
        with self._write() as db:
            yield db

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """The file for reading, under the outbox's lock."""
        with self._read() as db:
            yield db

    def mark_queued(self) -> None:
        """Inside a transaction: it queued something; listeners hear of it after the commit."""
        if self._tell_queue_listeners not in self._after_commit:
            self._after_commit.append(self._tell_queue_listeners)

    def add_queue_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from the committing thread) after each commit that queued."""
        self._queue_listeners.append(listener)

    def add_result_listener(self, listener: Callable[[RowKind, RowState], None]) -> None:
        """Call ``listener`` after each commit, once for every row it moved into a published state.

        Published: done, rejected, failed or unknown (a row settled later is heard again).
        """
        self._result_listeners.append(listener)

    def now_text(self) -> str:
        """Now by the injected clock, as the file stores times (UTC ISO 8601)."""
        return self._now()

    @contextmanager
    def held_if_free(self) -> Iterator[bool]:
        """Hold the file's lock if no other thread holds it, never waiting; yields whether held.

        While held, the calling thread's reads run at once (the lock is re-entrant) and no
        other thread can write: a read then waits for no commit or fsync.
        """
        held = self._lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                self._lock.release()

    # -- internals ------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Database]:
        with self._lock:
            if self._db is None:
                raise OutboxClosed
            yield self._db

    @contextmanager
    def _write(self) -> Iterator[Database]:
        with self._lock:
            if self._db is None:
                raise OutboxClosed
            conn = self._db.conn
            self._after_commit.clear()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
                if isinstance(exc, sqlite3.IntegrityError):
                    raise
                raise StorageUnavailable(self.path, exc) from exc
            notices, self._after_commit = self._after_commit, []
            for notice in notices:
                notice()

    def _tell_queue_listeners(self) -> None:
        for listener in self._queue_listeners:
            listener()

    def _tell_result_listeners(self, kind: RowKind, state: RowState) -> None:
        for listener in self._result_listeners:
            listener(kind, state)

    def _move(self, row_id: str, event: RowEvent, **columns: object) -> OutboxRow:
        """Move a row by ``event`` in one transaction."""
        with self._write() as db:
            return self._move_in_by_id(db, row_id, event, columns)

    def _move_in_by_id(
        self, db: Database, row_id: str, event: RowEvent, columns: dict[str, object]
    ) -> OutboxRow:
        """Move a row inside the caller's transaction: its kind and state are all it reads."""
        found = db.conn.execute("SELECT kind, state FROM outbox WHERE id = ?", [row_id]).fetchone()
        if found is None:
            raise RowNotFound(row_id)
        return self._update(db, (row_id, RowKind(found[0]), RowState(found[1])), event, columns)

    def _move_in(
        self, db: Database, row: OutboxRow, event: RowEvent, **columns: object
    ) -> OutboxRow:
        return self._update(db, (row.id, row.kind, row.state), event, columns)

    def _update(
        self,
        db: Database,
        current: tuple[str, RowKind, RowState],
        event: RowEvent,
        columns: dict[str, object],
    ) -> OutboxRow:
        """One UPDATE … RETURNING: the row as stored, its payload decoded once (memoized)."""
        row_id, kind, before = current
        try:
            state = transition(before, event)
        except IllegalTransition as exc:
            raise IllegalTransition(before, event, row_id) from exc
        now = self._now()
        sets = ["state = ?", "updated_at = ?"]
        values: list[Any] = [state.value, now]
        is_published = state is not before and state in PUBLISHED_STATES
        if is_published:
            sets.append("delivered_at = NULL")  # its result is owed afresh (queued below)
        for name, value in columns.items():
            if isinstance(value, Increment):
                sets.append(f"{name} = {name} + 1")
            else:
                sets.append(f"{name} = ?")
                values.append(value)
        updated = select(
            db,
            f"UPDATE outbox SET {', '.join(sets)} WHERE id = ? RETURNING *",  # noqa: S608 - column names are ours
            [*values, row_id],
        )
        if is_published:
            enqueue_result_in(db, row_id, kind, now)  # one transaction: never lost
            self.mark_queued()
            self._after_commit.append(partial(self._tell_result_listeners, kind, state))
        return row_from_sql(updated[0])

    def _find(self, db: Database, row_id: str) -> OutboxRow | None:
        rows = list(select(db, "SELECT * FROM outbox WHERE id = ?", [row_id]))
        return row_from_sql(rows[0]) if rows else None

    def _get(self, db: Database, row_id: str) -> OutboxRow:
        row = self._find(db, row_id)
        if row is None:
            raise RowNotFound(row_id)
        return row

    def _now(self) -> str:
        return utc_text(self._clock())

    def _migrate(self, db: Database) -> None:
        migrate(db.conn, self.path)
