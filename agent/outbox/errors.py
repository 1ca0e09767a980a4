"""The outbox's errors: what went wrong with the state file, and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = [
    "FdTaken",
    "OutboxClosed",
    "OutboxError",
    "RowNotFound",
    "SchemaTooNew",
    "StorageUnavailable",
]


class OutboxError(Exception):
    """Base of the store's errors."""

    public_code: str = "outbox_error"
    """The stable code in an error answer (docs/errors.md)."""


class RowNotFound(OutboxError):
    """No row has this id."""

    def __init__(self, row_id: str) -> None:
        self.row_id = row_id
        super().__init__(f"no outbox row with id {row_id!r}")


class SchemaTooNew(OutboxError):
    """The file was written by a newer agent; this one does not know its schema."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        self.path = path
        self.found = found
        self.known = known
        super().__init__(
            f"{path} has outbox schema {found}, this agent knows up to {known}; "
            "upgrade the agent, do not delete the file (it holds fiscal results)"
        )


class StorageUnavailable(OutboxError):
    """The state file cannot be written: the disk is full, read-only or failing.

    Nothing was stored. New requests are refused (HTTP 503, no MQTT acknowledgement) until
    the disk has room again; every result already stored is kept.
    """

    public_code = "storage_unavailable"

    def __init__(self, path: Path, cause: sqlite3.Error | OSError) -> None:
        self.path = path
        self.reason = str(cause)
        super().__init__(
            f"cannot write {path}: {cause}; free space on its disk or make it writable"
        )


class OutboxClosed(OutboxError):
    """The outbox was closed."""

    def __init__(self) -> None:
        super().__init__("the outbox is closed")


class FdTaken(OutboxError):
    """The FN document is already the result of another row."""

    public_code = "fd_taken"

    def __init__(self, fn: str, fd: int, row_id: str) -> None:
        self.fn = fn
        self.fd = fd
        self.row_id = row_id
        super().__init__(f"FD {fd} of FN {fn} is already the receipt of request {row_id}")
