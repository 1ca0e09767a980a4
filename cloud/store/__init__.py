"""The cloud's store: SQLite by default, PostgreSQL by URL, one API (cloud.store.store)."""

from cloud.store.errors import StoreError, StoreTooNew, StoreUrlError
from cloud.store.records import (
    Adoption,
    AgentRecord,
    AuditRecord,
    DocumentRecord,
    HealthChangeRecord,
    RequestRecord,
    ResultRecord,
    ShiftReportRecord,
    Transaction,
)
from cloud.store.store import CloudStore

__all__ = [
    "Adoption",
    "AgentRecord",
    "AuditRecord",
    "CloudStore",
    "DocumentRecord",
    "HealthChangeRecord",
    "RequestRecord",
    "ResultRecord",
    "ShiftReportRecord",
    "StoreError",
    "StoreTooNew",
    "StoreUrlError",
    "Transaction",
]
