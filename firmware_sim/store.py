"""The simulator's FN memory in SQLite: the tape of fiscal documents and the counters.

One file, WAL journal, ``synchronous=FULL``: a commit is on disk when :meth:`StateStore.save`
returns, and the server calls it before it writes the answer of a command that changed
something. Each save is one transaction, so a crash leaves either the whole document and
its counters or neither. Documents are append-only: rows are inserted, never updated.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from firmware_sim.state import CashMovement, DeviceConfig, DeviceState, FnDocument
from firmware_sim.state_json import (
    document_from_json,
    document_to_json,
    movement_from_json,
    movement_to_json,
    state_from_json,
    state_to_json,
)

__all__ = ["SCHEMA_VERSION", "StateStore", "StoreError", "StoredIdentity"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    fd        INTEGER PRIMARY KEY,
    type      TEXT NOT NULL,
    shift     INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cash_movements (
    number INTEGER PRIMARY KEY,
    body   TEXT NOT NULL
);
"""


class StoreError(Exception):
    """The state file cannot be used (wrong schema, another FN's file)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredIdentity:
    """Who the state file belongs to: an FN stays with its tape."""

    fn_serial: str
    serial: str
    fn_valid_until: date


class StateStore:
    """Reads and writes one register's state file."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self._path = Path(path)
        if read_only:
            uri = f"file:{self._path}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            self._check_schema()
        self._saved_fd = self._scalar("SELECT COALESCE(MAX(fd), 0) FROM documents")
        self._saved_movement = self._scalar("SELECT COALESCE(MAX(number), 0) FROM cash_movements")

    @property
    def path(self) -> Path:
        """The state file."""
        return self._path

    def close(self) -> None:
        """Close the connection; every save is already durable."""
        self._conn.close()

    def _scalar(self, sql: str) -> int:
        row = self._conn.execute(sql).fetchone()
        return int(row[0])

    def _meta(self, key: str) -> Any:  # noqa: ANN401 - JSON
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def _check_schema(self) -> None:
        version = self._meta("schema")
        if version is None:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?)", (json.dumps(SCHEMA_VERSION),)
            )
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"{self._path}: schema {version}, this simulator reads {SCHEMA_VERSION}"
            )

    def identity(self) -> StoredIdentity | None:
        """The FN and register the file belongs to, once written."""
        raw = self._meta("identity")
        if raw is None:
            return None
        return StoredIdentity(
            fn_serial=raw["fn_serial"],
            serial=raw["serial"],
            fn_valid_until=date.fromisoformat(raw["fn_valid_until"]),
        )

    def save_identity(self, config: DeviceConfig) -> None:
        """Bind the file to ``config``'s FN (first start only)."""
        value = json.dumps(
            {
                "fn_serial": config.fn_serial,
                "serial": config.serial,
                "fn_valid_until": config.fn_valid_until.isoformat(),
            }
        )
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES ('identity', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (value,),
        )

    def load(self) -> DeviceState | None:
        """The last saved state, or None for a new file."""
        raw = self._meta("state")
        if raw is None:
            return None
        return state_from_json(
            raw,
            documents=tuple(self.documents()),
            cash_movements=tuple(self.cash_movements()),
        )

    def documents(self) -> Iterator[FnDocument]:
        """The FN tape in FD order."""
        for (body,) in self._conn.execute("SELECT body FROM documents ORDER BY fd"):
            yield document_from_json(json.loads(body))

    def cash_movements(self) -> Iterator[CashMovement]:
        """Cash-in and cash-out documents in order."""
        for (body,) in self._conn.execute("SELECT body FROM cash_movements ORDER BY number"):
            yield movement_from_json(json.loads(body))

    def save(self, state: DeviceState, *, also: Sequence[tuple[str, tuple[Any, ...]]] = ()) -> None:
        """Write what changed in one transaction: new documents, new movements, counters.

        ``also`` are a front end's own statements (SQL, parameters) that must commit with this
        state or not at all (the SmartOne front end's reply to the document it issued).
        """
        new_docs = [doc for doc in state.documents if doc.fd > self._saved_fd]
        new_moves = [m for m in state.cash_movements if m.number > self._saved_movement]
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany(
                "INSERT INTO documents (fd, type, shift, issued_at, body) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        doc.fd,
                        doc.type.value,
                        doc.shift,
                        doc.issued_at.isoformat(),
                        json.dumps(document_to_json(doc), ensure_ascii=False),
                    )
                    for doc in new_docs
                ],
            )
            cur.executemany(
                "INSERT INTO cash_movements (number, body) VALUES (?, ?)",
                [(m.number, json.dumps(movement_to_json(m))) for m in new_moves],
            )
            cur.execute(
                "INSERT INTO meta (key, value) VALUES ('state', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (json.dumps(state_to_json(state)),),
            )
            for sql, parameters in also:
                cur.execute(sql, parameters)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        if new_docs:
            self._saved_fd = new_docs[-1].fd
        if new_moves:
            self._saved_movement = new_moves[-1].number
