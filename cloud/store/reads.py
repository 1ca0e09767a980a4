"""The store's reads: contract models back from their stored JSON, in the order received."""

from __future__ import annotations

from sqlalchemy import Select, Table, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from agent.contract import (
    FiscalDocument,
    Health,
    ReceiptRequest,
    ReceiptResult,
    ShiftReport,
    kopecks_to_money,
)
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
from cloud.store.schema import (
    agents,
    audit,
    crm_requests,
    documents,
    health_history,
    results,
    shift_reports,
    transactions,
)

__all__ = [
    "HealthChange",
    "read_agents",
    "read_audit",
    "read_documents",
    "read_health_changes",
    "read_health_history",
    "read_request_agents",
    "read_requests",
    "read_results",
    "read_shift_reports",
    "read_transactions",
]


async def _rows(
    conn: AsyncConnection, query: Select[tuple[object, ...]]
) -> list[Row[tuple[object, ...]]]:
    return list((await conn.execute(query)).all())


async def _scoped_rows(
    conn: AsyncConnection,
    table: Table,
    club: str,
    agent: str | None = None,
    shift: int | None = None,
) -> list[Row[tuple[object, ...]]]:
    """A table's rows of one club (and agent, and shift, when given), in the order received."""
    query = select(table).where(table.c.club == club)
    if agent is not None:
        query = query.where(table.c.agent == agent)
    if shift is not None:
        query = query.where(table.c.shift == shift)
    return await _rows(conn, query.order_by(table.c.pk))


async def read_agents(conn: AsyncConnection) -> list[AgentRecord]:
    """Every agent that sent a health, with its newest."""
    rows = await _rows(conn, select(agents).where(agents.c.state != "").order_by(agents.c.pk))
    return [
        AgentRecord(
            club=row.club,
            agent=row.agent,
            health=Health.model_validate_json(row.health),
            seen_at=row.seen_at,
        )
        for row in rows
    ]


async def read_requests(conn: AsyncConnection, club: str, agent: str | None) -> list[RequestRecord]:
    """The club's CRM requests, of one agent or all."""
    rows = await _scoped_rows(conn, crm_requests, club, agent)
    return [
        RequestRecord(
            club=row.club,
            agent=row.agent,
            request=ReceiptRequest.model_validate_json(row.payload),
            received_at=row.received_at,
            paid_at=row.paid_at,
        )
        for row in rows
    ]


async def read_request_agents(conn: AsyncConnection, club: str) -> list[str]:
    """The agents the club's CRM sent requests to, in the order first seen."""
    first = func.min(crm_requests.c.pk)
    query = (
        select(crm_requests.c.agent, first)
        .where(crm_requests.c.club == club)
        .group_by(crm_requests.c.agent)
        .order_by(first)
    )
    return [row.agent for row in await _rows(conn, query)]


async def read_results(
    conn: AsyncConnection, club: str, agent: str | None, shift: int | None
) -> list[ResultRecord]:
    """The club's results; with ``shift``, the done ones of that shift."""
    rows = await _scoped_rows(conn, results, club, agent, shift)
    return [
        ResultRecord(
            club=row.club,
            agent=row.agent,
            result=ReceiptResult.model_validate_json(row.payload),
            received_at=row.received_at,
        )
        for row in rows
    ]


def _adoption(row: Row[tuple[object, ...]]) -> Adoption | None:
    if row.adopted_at is None:
        return None
    return Adoption(
        by=row.adopted_by, role=row.adopted_role, at=row.adopted_at, reason=row.adopted_reason
    )


async def read_documents(
    conn: AsyncConnection, club: str, agent: str | None, shift: int | None
) -> list[DocumentRecord]:
    """The club's FN documents reported by ``evt/document``, with their adoption."""
    rows = await _scoped_rows(conn, documents, club, agent, shift)
    return [
        DocumentRecord(
            club=row.club,
            agent=row.agent,
            document=FiscalDocument.model_validate_json(row.payload),
            received_at=row.received_at,
            adoption=_adoption(row),
        )
        for row in rows
    ]


async def read_shift_reports(
    conn: AsyncConnection, club: str, agent: str, shift: int | None
) -> list[ShiftReportRecord]:
    """One agent's shift reports (open, the latest X, Z), of one shift or all."""
    rows = await _scoped_rows(conn, shift_reports, club, agent, shift)
    return [
        ShiftReportRecord(
            club=row.club,
            agent=row.agent,
            report=ShiftReport.model_validate_json(row.payload),
            received_at=row.received_at,
        )
        for row in rows
    ]


async def read_transactions(conn: AsyncConnection, club: str) -> list[Transaction]:
    """The CRM transactions posted for the club."""
    query = select(transactions).where(transactions.c.club == club).order_by(transactions.c.pk)
    return [
        Transaction(id=row.id, amount=kopecks_to_money(row.amount), kind=row.kind, at=row.at)
        for row in await _rows(conn, query)
    ]


async def read_audit(conn: AsyncConnection, club: str) -> list[AuditRecord]:
    """Every reissue and adoption in the club, oldest first."""
    query = select(audit).where(audit.c.club == club).order_by(audit.c.pk)
    return [
        AuditRecord(
            club=row.club,
            agent=row.agent,
            action=row.action,
            target=row.target,
            role=row.role,
            by=row.by,
            reason=row.reason,
            at=row.at,
        )
        for row in await _rows(conn, query)
    ]


HealthChange = tuple[str | None, str, int | None, int | None]
"""(previous state, state, boot, seq) of one change."""


async def read_health_history(conn: AsyncConnection, club: str, agent: str) -> list[HealthChange]:
    """One agent's state changes, oldest first."""
    query = (
        select(health_history)
        .where(health_history.c.club == club, health_history.c.agent == agent)
        .order_by(health_history.c.pk)
    )
    return [(row.previous, row.state, row.boot, row.seq) for row in await _rows(conn, query)]


async def read_health_changes(
    conn: AsyncConnection, club: str, agent: str, limit: int
) -> list[HealthChangeRecord]:
    """One agent's newest ``limit`` state changes with their times, newest first."""
    query = (
        select(health_history)
        .where(health_history.c.club == club, health_history.c.agent == agent)
        .order_by(health_history.c.pk.desc())
        .limit(limit)
    )
    return [
        HealthChangeRecord(
            previous=row.previous,
            state=row.state,
            boot=row.boot,
            seq=row.seq,
            at=row.at,
            seen_at=row.seen_at,
        )
        for row in await _rows(conn, query)
    ]
