"""ATOL requests in the simulator's state file: uuids and results survive a restart.

A table of its own in the same SQLite file as the FN tape (``firmware_sim.store``); the
Shtrih front end never reads it, so one state file serves either front end.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from firmware_sim.atol.queue import AtolRequest

__all__ = ["RequestStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS atol_requests (
    uuid   TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    body   TEXT NOT NULL
);
"""


class RequestStore:
    """Reads and writes the ATOL requests of one state file."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection; every save is already durable."""
        self._conn.close()

    def load(self) -> Iterator[AtolRequest]:
        """The requests in arrival order."""
        for (body,) in self._conn.execute("SELECT body FROM atol_requests ORDER BY number"):
            yield AtolRequest.from_json(json.loads(body))

    def save(self, request: AtolRequest) -> None:
        """Insert or replace one request (one transaction)."""
        self._conn.execute(
            "INSERT INTO atol_requests (uuid, number, body) VALUES (?, ?, ?) "
            "ON CONFLICT(uuid) DO UPDATE SET body = excluded.body",
            (request.uuid, request.number, json.dumps(request.to_json(), ensure_ascii=False)),
        )
