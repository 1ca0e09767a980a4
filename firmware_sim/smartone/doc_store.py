"""The SmartOne documents in the simulator's state file: replies survive a restart.

A table of its own in the same SQLite file as the register's tape (``firmware_sim.store``).
A new record is written in the same transaction as the register state it came with
(:meth:`StateStore.save`'s ``also``), so after a crash the tape and the stored replies agree:
a resent ``documentExtID`` finds its document, never a second one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firmware_sim.smartone.records import DocumentRecord

__all__ = ["TABLE", "DocStore", "insert_statement", "read_records"]

TABLE = "smartone_documents"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    document_id INTEGER PRIMARY KEY,
    operation   TEXT NOT NULL,
    ext_id      TEXT,
    body        TEXT NOT NULL
);
"""
_INSERT = f"INSERT INTO {TABLE} (document_id, operation, ext_id, body) VALUES (?, ?, ?, ?)"  # noqa: S608 - a constant table name


def insert_statement(record: DocumentRecord) -> tuple[str, tuple[Any, ...]]:
    """The SQL that stores ``record`` (run inside the state's save transaction)."""
    body = json.dumps(record.to_json(), ensure_ascii=False)
    return _INSERT, (record.document_id, record.operation.value, record.ext_id, body)


def read_records(conn: sqlite3.Connection) -> Iterator[DocumentRecord]:
    """The records in documentID order; none when the table does not exist."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).fetchone()
    if exists is None:
        return
    for (body,) in conn.execute(f"SELECT body FROM {TABLE} ORDER BY document_id"):  # noqa: S608
        yield DocumentRecord.from_json(json.loads(body))


class DocStore:
    """Creates the table and reads the records of one state file."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection (writes go through the state store's)."""
        self._conn.close()

    def load(self) -> list[DocumentRecord]:
        """Every record, in documentID order."""
        return list(read_records(self._conn))
