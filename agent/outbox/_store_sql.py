"""The outbox's SQL text and its small query helpers (used by :mod:`agent.outbox.store`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlite_utils import Database

from agent.outbox.codes import QUEUE_EXPIRED
from agent.outbox.rows import aware
from agent.outbox.states import ACTIVE_STATES, FINAL_STATES, RowKind, RowState

__all__ = [
    "SQL_COUNT_ACTIVE",
    "SQL_COUNT_UNDELIVERED",
    "SQL_COUNT_WITHDRAWN",
    "SQL_DELIVERED",
    "SQL_FIRST_IN_STATE",
    "SQL_ISSUED_FDS",
    "SQL_OLDEST_ACTIVE",
    "SQL_PRUNE",
    "SQL_SHIFT_CHANGE",
    "Increment",
    "scalar",
    "scalar_text",
    "select",
    "utc_text",
]

_FINAL_SQL: Final = ", ".join(f"'{state.value}'" for state in sorted(FINAL_STATES, key=str))
_ACTIVE_SQL: Final = ", ".join(f"'{state.value}'" for state in sorted(ACTIVE_STATES, key=str))
# Built once from constant enum values, never from input (hence the S608 waivers).
SQL_COUNT_ACTIVE: Final = f"SELECT COUNT(*) FROM outbox WHERE state IN ({_ACTIVE_SQL})"  # noqa: S608
SQL_OLDEST_ACTIVE: Final = f"SELECT MIN(accepted_at) FROM outbox WHERE state IN ({_ACTIVE_SQL})"  # noqa: S608
SQL_COUNT_WITHDRAWN: Final = (
    f"SELECT COUNT(*) FROM outbox WHERE state = '{RowState.FAILED.value}'"  # noqa: S608
    f" AND error_code = '{QUEUE_EXPIRED}'"
)
SQL_FIRST_IN_STATE: Final = "SELECT * FROM outbox WHERE state = ? ORDER BY seq LIMIT ?"
"""The oldest rows in one state: an index range (``outbox_state_seq``), whatever the backlog."""
SQL_COUNT_UNDELIVERED: Final = (
    f"SELECT COUNT(*) FROM outbox WHERE state IN ({_FINAL_SQL}) AND delivered_at IS NULL"  # noqa: S608
)
SQL_DELIVERED: Final = (
    "UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL"  # noqa: S608
    f" AND state IN ({_FINAL_SQL})"
)
SQL_PRUNE: Final = (
    f"DELETE FROM outbox WHERE state IN ({_FINAL_SQL})"  # noqa: S608
    " AND delivered_at IS NOT NULL AND updated_at < ?"
)


SQL_SHIFT_CHANGE: Final = (
    "SELECT json_extract(payload, '$.kind') AS receipt_kind,"  # noqa: S608
    " COALESCE(SUM(fiscal_change), 0) AS change FROM outbox"
    f" WHERE kind = '{RowKind.RECEIPT.value}' AND state = '{RowState.DONE.value}'"
    " AND fiscal_fn = ? AND fiscal_shift = ? GROUP BY receipt_kind"
)
SQL_ISSUED_FDS: Final = (
    "SELECT fiscal_fd FROM outbox"  # noqa: S608
    f" WHERE kind = '{RowKind.RECEIPT.value}' AND state = '{RowState.DONE.value}'"
    " AND fiscal_fn = ? AND fiscal_fd BETWEEN ? AND ?"
)


class Increment:
    """Marker: add one to the column."""


def utc_text(value: datetime) -> str:
    """An aware time as the file stores it: UTC ISO 8601 text, to the microsecond."""
    return aware(value, "the clock's time").astimezone(UTC).isoformat(timespec="microseconds")


def select(db: Database, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts, straight from the connection (the hot path: no query tracing)."""
    cursor = db.conn.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def scalar(db: Database, sql: str) -> int:
    """The first column of the first row, as an int."""
    value = db.execute(sql).fetchone()[0]
    return int(value)


def scalar_text(db: Database, sql: str) -> str | None:
    """The first column of the first row, as text (None when NULL)."""
    value = db.execute(sql).fetchone()[0]
    return None if value is None else str(value)
