"""The cloud store's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Every table has an integer ``pk`` that grows with each row stored: reads order by it, so both
databases answer in the order the rows arrived (text collations differ between them; integers
do not). Money is integer kopecks; payloads are the contract's JSON as text; times are stored
in UTC and read back aware.

Version 2 added typed columns, written at ingest beside the payload, for everything the
reconciliation reads (a request's kind, payments and total and the time that places it in a
shift; a result's type, mark and error code; a document's payment split), and the indexes
that read one shift: requests by (club, agent, placed_at), results and documents by (club,
agent, shift), transactions by (club, at). :data:`ADDED_IN_V2` names those columns for the
migration (cloud.store.engine).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

__all__ = [
    "ADDED_IN_V2",
    "SCHEMA_VERSION",
    "agents",
    "audit",
    "crm_requests",
    "documents",
    "health_history",
    "metadata",
    "results",
    "schema_version",
    "shift_reports",
    "transactions",
]

SCHEMA_VERSION: Final = 2
"""The version :mod:`cloud.store.engine` migrates an opened database to."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite keeps no offset, PostgreSQL gives its own zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse a naive time; store the instant in UTC."""
        del dialect
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"naive datetime {value!r}: the store keeps aware times only"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The same aware UTC time from either database."""
        del dialect
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

_NAME = 64  # club, agent and request ids are at most 64 characters (docs/contract.md)


def _pk() -> Column[int]:
    return Column("pk", Integer, primary_key=True, autoincrement=True)


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

crm_requests = Table(
    "crm_requests",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("id", String(_NAME), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime),
    # v2: the request as the reconciliation reads it (kopecks; total = the lines summed).
    Column("kind", String(16)),
    Column("cash", BigInteger),
    Column("card", BigInteger),
    Column("prepaid", BigInteger),
    Column("total", BigInteger),
    Column("placed_at", UtcDateTime),  # paid_at, else received_at: what places it in a shift
    UniqueConstraint("club", "agent", "id", name="uq_crm_requests"),
    Index("ix_crm_requests_placed", "club", "agent", "placed_at"),
)

results = Table(
    "results",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("id", String(_NAME), nullable=False),
    Column("status", String(16), nullable=False),
    Column("fn", String(64)),
    Column("fd", BigInteger),
    Column("fp", BigInteger),
    Column("shift", Integer),
    Column("total", BigInteger),  # kopecks
    Column("issued_at", UtcDateTime),
    Column("doc_id", String(128)),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # v2: the rest of what the reconciliation reads of a result.
    Column("type", String(32)),
    Column("mark", String(_NAME)),
    Column("error_code", String(64)),
    UniqueConstraint("club", "agent", "id", name="uq_results"),
    Index("ix_results_shift", "club", "agent", "shift"),
)

documents = Table(
    "documents",
    metadata,
    _pk(),
    Column("fn", String(64), nullable=False),
    Column("fd", BigInteger, nullable=False),
    Column("doc_id", String(128), nullable=False),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("type", String(32), nullable=False),
    Column("kind", String(16)),
    Column("total", BigInteger),  # kopecks
    Column("shift", Integer, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("mark", String(_NAME)),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("adopted_by", Text),
    Column("adopted_role", String(16)),
    Column("adopted_at", UtcDateTime),
    Column("adopted_reason", Text),
    # v2: the payment split of a receipt (contract v1.1 ``payments``), kopecks; null when the
    # agent did not report it.
    Column("cash", BigInteger),
    Column("card", BigInteger),
    Column("prepaid", BigInteger),
    UniqueConstraint("fn", "fd", name="uq_documents"),
    Index("ix_documents_shift", "club", "agent", "shift"),
)

shift_reports = Table(
    "shift_reports",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("shift", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("fn", String(64), nullable=False),
    # An X report may repeat within a shift: the one with the highest (last_fd, receipts) is
    # kept (docs of cloud.store.writes); open and Z are written once.
    Column("last_fd", BigInteger, nullable=False),
    Column("receipts", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("club", "agent", "shift", "kind", name="uq_shift_reports"),
)

transactions = Table(
    "transactions",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("id", String(_NAME), nullable=False),
    Column("amount", BigInteger, nullable=False),  # kopecks
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("club", "id", name="uq_transactions"),
    Index("ix_transactions_at", "club", "at"),
)

agents = Table(
    "agents",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("health", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("boot", BigInteger),
    Column("seq", BigInteger),
    Column("will", Boolean, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    UniqueConstraint("club", "agent", name="uq_agents"),
)

health_history = Table(
    "health_history",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("state", String(16), nullable=False),
    Column("previous", String(16)),
    Column("boot", BigInteger),
    Column("seq", BigInteger),
    Column("at", UtcDateTime),
    Column("seen_at", UtcDateTime, nullable=False),
)

audit = Table(
    "audit",
    metadata,
    _pk(),
    Column("club", String(_NAME), nullable=False),
    Column("agent", String(_NAME), nullable=False),
    Column("action", String(16), nullable=False),  # "reissue" | "adopt"
    Column("target", String(128), nullable=False),  # the request id or the doc_id
    Column("role", String(16), nullable=False),
    Column("by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

ADDED_IN_V2: Final = {
    crm_requests.name: ("kind", "cash", "card", "prepaid", "total", "placed_at"),
    results.name: ("type", "mark", "error_code"),
    documents.name: ("cash", "card", "prepaid"),
}
"""The columns schema version 2 added, by table (every index is version 2's too)."""
