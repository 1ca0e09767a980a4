"""The outbox file's schema: its migrations, in order, and the code that applies them.

The version lives in ``PRAGMA user_version``; a file is migrated forward when it is opened,
each migration in its own transaction, and a file from a newer agent is refused (it holds
fiscal results: never guess at a schema).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from agent.outbox.errors import SchemaTooNew
from agent.outbox.shift_commands import SHIFT_COMMANDS_SCHEMA
from agent.outbox.sync_queue import SYNC_QUEUE_SCHEMA

__all__ = ["SCHEMA_VERSION", "migrate"]

_MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the outbox table. seq is the accept order (FIFO); id is the idempotency key.
    """
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        payload TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        accepted_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        fn_serial TEXT,
        last_fd_before INTEGER,
        fiscal_fn TEXT,
        fiscal_fd INTEGER,
        fiscal_fp INTEGER,
        fiscal_shift INTEGER,
        fiscal_number INTEGER,
        fiscal_issued_at TEXT,
        fiscal_total INTEGER,
        fiscal_change INTEGER,
        error_code TEXT,
        error_message TEXT,
        delivered_at TEXT
    );
    CREATE INDEX outbox_state_seq ON outbox (state, seq);
    """,
    # 2: the drawer's balance recorded with a cash movement's intent (cash leaves no FD).
    """
    ALTER TABLE outbox ADD COLUMN drawer_before INTEGER;
    """,
    # 3: the mark the FN document carries, and who settled an unknown row, when and how.
    """
    ALTER TABLE outbox ADD COLUMN fiscal_mark TEXT;
    ALTER TABLE outbox ADD COLUMN settled_as TEXT;
    ALTER TABLE outbox ADD COLUMN settled_by TEXT;
    ALTER TABLE outbox ADD COLUMN settled_at TEXT;
    ALTER TABLE outbox ADD COLUMN settled_reason TEXT;
    """,
    # 4: the sync queue (agent/outbox/sync_queue.py), shift commands by id, the boot counter.
    SYNC_QUEUE_SCHEMA
    + SHIFT_COMMANDS_SCHEMA
    + """
    CREATE TABLE agent_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 5: the sync queue's index holds droppable entries only (the bound's count and its oldest):
    # a fiscal entry, one per receipt, no longer writes an index page to the WAL.
    """
    DROP INDEX sync_queue_droppable;
    CREATE INDEX sync_queue_droppable_seq ON sync_queue (seq) WHERE droppable = 1;
    """,
    # 6: late payments (docs/corrections.md): when the CRM took the payment; the settlement
    # date a correction receipt names, decided with the intent (NULL: an ordinary receipt);
    # the type of the document signed ("receipt" | "correction").
    """
    ALTER TABLE outbox ADD COLUMN paid_at TEXT;
    ALTER TABLE outbox ADD COLUMN correction_on TEXT;
    ALTER TABLE outbox ADD COLUMN fiscal_type TEXT;
    """,
    # 7: the number of the receipt's current try (ReceiptRef.attempt): one more at each
    # intent (pending -> printing), so a try is numbered anew only after the one before it
    # was settled as not issued (docs/exactly-once.md). attempts counts failures, not tries.
    """
    ALTER TABLE outbox ADD COLUMN print_attempt INTEGER NOT NULL DEFAULT 0;
    """,
    # 8: the register's own document id where it is not "<FN>:<FD>" (SmartOne's fiscalID,
    # which a refund names); NULL on a Russian FN.
    """
    ALTER TABLE outbox ADD COLUMN fiscal_doc_id TEXT;
    """,
)
SCHEMA_VERSION: Final = len(_MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file on ``conn`` to :data:`SCHEMA_VERSION`; :class:`SchemaTooNew` if newer."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(path, found, SCHEMA_VERSION)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
