"""Shift commands by id (``cmd/shift``): a redelivered ``close`` never closes a later shift.

A shift command is not a fiscal document of its own request: the register's shift is the
state it changes. So it does not go through the outbox's rows; it is kept here by its id,
with its content's fingerprint, from the moment it is taken (``running``, committed before
the broker's acknowledgement) to its outcome (``done`` or ``failed``). The same id again is
answered from this table and never runs on the register a second time; the same id with other
content is a conflict.

A command left ``running`` by a crash is settled at the next start as ``failed`` with
``interrupted``: the register may or may not have run it, and the agent does not guess (its
shift report, if there was one, arrives with the next report). Send a new id to run it again;
a second close on a closed shift is refused by the register, so nothing closes twice.

The outcome and the report are queued for the cloud in the same transaction that stores them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from agent.outbox.sync_queue import SyncTopic, Transactions, enqueue_in

__all__ = [
    "SHIFT_COMMANDS_SCHEMA",
    "CommandState",
    "ShiftCommandRow",
    "ShiftCommands",
    "Taking",
]

SHIFT_COMMANDS_SCHEMA: Final = """
    CREATE TABLE shift_commands (
        id TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL,
        outcome TEXT,
        accepted_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
"""


class CommandState(Enum):
    """Where a shift command is."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Taking(Enum):
    """What :meth:`ShiftCommands.take` found."""

    NEW = "new"  # stored as running: run it, then :meth:`ShiftCommands.finish`
    KNOWN = "known"  # the same id and content: answer from the row, never run again
    CONFLICT = "conflict"  # the same id with other content


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftCommandRow:
    """One shift command and its outcome (the JSON published on evt/command)."""

    id: str
    action: str
    fingerprint: str
    state: CommandState
    outcome: dict[str, Any] | None


class ShiftCommands:
    """The table's API (blocking: call via ``asyncio.to_thread``)."""

    def __init__(self, store: Transactions) -> None:
        self._store = store

    def take(
        self, command_id: str, action: str, fingerprint: str
    ) -> tuple[Taking, ShiftCommandRow]:
        """Store a new command as running, or find the known one; committed on return."""
        with self._store.transaction() as db:
            found = _find(db.conn, command_id)
            if found is not None:
                taking = Taking.KNOWN if found.fingerprint == fingerprint else Taking.CONFLICT
                return taking, found
            now = self._store.now_text()
            db.conn.execute(
                "INSERT INTO shift_commands (id, action, fingerprint, state, accepted_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [command_id, action, fingerprint, CommandState.RUNNING.value, now, now],
            )
            row = _find(db.conn, command_id)
            assert row is not None
            return Taking.NEW, row

    def finish(
        self,
        command_id: str,
        *,
        state: CommandState,
        outcome: dict[str, Any],
        report: str | None = None,
    ) -> ShiftCommandRow:
        """Store the outcome and queue it (and the report, first) for the cloud, atomically."""
        with self._store.transaction() as db:
            now = self._store.now_text()
            db.conn.execute(
                "UPDATE shift_commands SET state = ?, outcome = ?, updated_at = ? WHERE id = ?",
                [state.value, json.dumps(outcome), now, command_id],
            )
            if report is not None:
                enqueue_in(db, SyncTopic.SHIFT, report, now)
            enqueue_in(db, SyncTopic.COMMAND, json.dumps(outcome), now)
            self._store.mark_queued()
            row = _find(db.conn, command_id)
            assert row is not None
            return row

    def retake(self, command_id: str) -> ShiftCommandRow | None:
        """A ``failed`` command taken again (running once more); None if it is not failed now.

        Only for a failure where the register ran nothing (its refusal): the caller decides.
        """
        with self._store.transaction() as db:
            cursor = db.conn.execute(
                "UPDATE shift_commands SET state = ?, outcome = NULL, updated_at = ?"
                " WHERE id = ? AND state = ?",
                [
                    CommandState.RUNNING.value,
                    self._store.now_text(),
                    command_id,
                    CommandState.FAILED.value,
                ],
            )
            return _find(db.conn, command_id) if cursor.rowcount else None

    def republish(self, row: ShiftCommandRow) -> None:
        """Queue a finished command's outcome again (the CRM asked again)."""
        if row.outcome is None:
            return
        with self._store.transaction() as db:
            enqueue_in(db, SyncTopic.COMMAND, json.dumps(row.outcome), self._store.now_text())
            self._store.mark_queued()

    def settle_interrupted(
        self, outcome_for: Callable[[ShiftCommandRow], dict[str, Any]]
    ) -> list[ShiftCommandRow]:
        """At start: commands a crash left running are failed (``interrupted``) and queued."""
        with self._store.reading() as db:
            running = _select(db.conn, "WHERE state = ?", [CommandState.RUNNING.value])
        return [
            self.finish(row.id, state=CommandState.FAILED, outcome=outcome_for(row))
            for row in running
        ]

    def get(self, command_id: str) -> ShiftCommandRow | None:
        """The command with this id, if known."""
        with self._store.reading() as db:
            return _find(db.conn, command_id)


def _find(conn: sqlite3.Connection, command_id: str) -> ShiftCommandRow | None:
    found = _select(conn, "WHERE id = ?", [command_id])
    return found[0] if found else None


def _select(conn: sqlite3.Connection, where: str, params: list[str]) -> list[ShiftCommandRow]:
    cursor = conn.execute(
        f"SELECT id, action, fingerprint, state, outcome FROM shift_commands {where}",  # noqa: S608 - our own constant clauses
        params,
    )
    return [
        ShiftCommandRow(
            id=row_id,
            action=action,
            fingerprint=fingerprint,
            state=CommandState(state),
            outcome=json.loads(outcome) if outcome else None,
        )
        for row_id, action, fingerprint, state, outcome in cursor.fetchall()
    ]
