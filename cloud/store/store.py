"""CloudStore: the cloud's database, SQLite or PostgreSQL behind one API.

``async with await CloudStore.open(url) as store`` opens the database and migrates its schema
(cloud.store.engine). Each ``record_*`` writes its whole batch in one transaction and is
idempotent (cloud.store.writes); reads return the contract models with where they came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.contract import FiscalDocument, Health, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.store import reads, writes
from cloud.store.engine import create_engine, migrate
from cloud.store.health_writes import write_health
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
from cloud.store.schema import audit, documents
from cloud.store.shift_reads import ShiftInputs, read_shift_inputs
from cloud.store.writes import AgentKey

__all__ = ["AgentKey", "Clock", "CloudStore"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CloudStore:
    """The cloud's store; open it with :meth:`open`."""

    def __init__(self, engine: AsyncEngine, clock: Clock = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    @classmethod
    async def open(cls, url: str, *, clock: Clock = _utc_now) -> Self:
        """Open ``sqlite:///path`` or ``postgresql://user@host/db`` and migrate its schema."""
        engine = create_engine(url)
        try:
            await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock)

    async def close(self) -> None:
        """Close every connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    # Writes: one transaction per batch.

    async def record_requests(self, club: str, agent: str, batch: Sequence[ReceiptRequest]) -> None:
        """The CRM's ``cmd/receipt`` payloads to one agent."""
        async with self._engine.begin() as conn:
            await writes.write_requests(conn, {(club, agent): batch}, self._clock())

    async def record_results(self, club: str, agent: str, batch: Sequence[ReceiptResult]) -> None:
        """The agent's ``evt/receipt`` payloads."""
        async with self._engine.begin() as conn:
            await writes.write_results(conn, {(club, agent): batch}, self._clock())

    async def record_documents(
        self, club: str, agent: str, batch: Sequence[FiscalDocument]
    ) -> None:
        """The agent's ``evt/document`` payloads."""
        async with self._engine.begin() as conn:
            await writes.write_documents(conn, {(club, agent): batch}, self._clock())

    async def record_shift_reports(
        self, club: str, agent: str, batch: Sequence[ShiftReport]
    ) -> None:
        """The agent's ``evt/shift`` payloads."""
        async with self._engine.begin() as conn:
            await writes.write_shift_reports(conn, {(club, agent): batch}, self._clock())

    async def record_batch(
        self,
        *,
        requests: Mapping[AgentKey, Sequence[ReceiptRequest]] | None = None,
        results: Mapping[AgentKey, Sequence[ReceiptResult]] | None = None,
        documents: Mapping[AgentKey, Sequence[FiscalDocument]] | None = None,
        shift_reports: Mapping[AgentKey, Sequence[ShiftReport]] | None = None,
    ) -> None:
        """Many agents' payloads in one transaction (the ingest's batch): all or nothing.

        Each part is written as its ``record_*`` method writes it, with the same rules; one
        commit for the lot, and one statement per kind for every agent of the batch.
        """
        at = self._clock()
        async with self._engine.begin() as conn:
            if requests:
                await writes.write_requests(conn, requests, at)
            if results:
                await writes.write_results(conn, results, at)
            if documents:
                await writes.write_documents(conn, documents, at)
            if shift_reports:
                await writes.write_shift_reports(conn, shift_reports, at)

    async def record_transactions(self, club: str, batch: Sequence[Transaction]) -> None:
        """The CRM's transactions posted to ``/transactions``."""
        async with self._engine.begin() as conn:
            await writes.write_transactions(conn, club, batch, self._clock())

    async def record_transaction(self, club: str, transaction: Transaction) -> None:
        """One CRM transaction."""
        await self.record_transactions(club, [transaction])

    async def record_health(
        self, club: str, agent: str, health: Health | Mapping[str, object]
    ) -> bool:
        """A ``health`` message or the last will; True when it was newer and stored."""
        parsed = health if isinstance(health, Health) else Health.model_validate(health)
        async with self._engine.begin() as conn:
            return await write_health(conn, club, agent, parsed, self._clock())

    async def record_reissue(
        self, club: str, agent: str, request_id: str, *, role: str, by: str, reason: str
    ) -> None:
        """Keep who re-sent a ``crm_only`` request to the agent, in what role and why."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(audit).values(
                    club=club,
                    agent=agent,
                    action="reissue",
                    target=request_id,
                    role=role,
                    by=by,
                    reason=reason,
                    at=self._clock(),
                )
            )

    async def adopt_document(
        self, club: str, agent: str, doc_id: str, *, role: str, by: str, reason: str
    ) -> Adoption | None:
        """Mark a ``register_only`` document as taken into the CRM; the first adoption stays.

        Returns the document's adoption (this one, or the earlier one), None for an unknown
        document.
        """
        at = self._clock()
        where = and_(
            documents.c.club == club, documents.c.agent == agent, documents.c.doc_id == doc_id
        )
        async with self._engine.begin() as conn:
            marked = await conn.execute(
                update(documents)
                .where(where, documents.c.adopted_at.is_(None))
                .values(adopted_by=by, adopted_role=role, adopted_at=at, adopted_reason=reason)
            )
            if marked.rowcount:
                await conn.execute(
                    insert(audit).values(
                        club=club,
                        agent=agent,
                        action="adopt",
                        target=doc_id,
                        role=role,
                        by=by,
                        reason=reason,
                        at=at,
                    )
                )
            row = (
                await conn.execute(
                    select(
                        documents.c.adopted_by,
                        documents.c.adopted_role,
                        documents.c.adopted_at,
                        documents.c.adopted_reason,
                    ).where(where)
                )
            ).first()
        if row is None or row.adopted_at is None:
            return None
        return Adoption(
            by=row.adopted_by, role=row.adopted_role, at=row.adopted_at, reason=row.adopted_reason
        )

    # Reads.

    async def agents(self) -> list[AgentRecord]:
        """Every known agent with its newest health."""
        async with self._engine.connect() as conn:
            return await reads.read_agents(conn)

    async def requests(self, club: str, agent: str | None = None) -> list[RequestRecord]:
        """The club's CRM requests."""
        async with self._engine.connect() as conn:
            return await reads.read_requests(conn, club, agent)

    async def results(
        self, club: str, agent: str | None = None, shift: int | None = None
    ) -> list[ResultRecord]:
        """The club's results (with ``shift``: the done results of that shift)."""
        async with self._engine.connect() as conn:
            return await reads.read_results(conn, club, agent, shift)

    async def documents(
        self, club: str, agent: str | None = None, shift: int | None = None
    ) -> list[DocumentRecord]:
        """The club's FN documents from ``evt/document``."""
        async with self._engine.connect() as conn:
            return await reads.read_documents(conn, club, agent, shift)

    async def shift_inputs(
        self, club: str, agent: str, *, shift: int, start: datetime, end: datetime | None
    ) -> ShiftInputs:
        """What the reconciliation of one agent's shift reads (cloud.store.shift_reads).

        ``start`` and ``end`` are the window the shift claims payments in (end None: open).
        """
        async with self._engine.connect() as conn:
            return await read_shift_inputs(conn, club, agent, shift=shift, start=start, end=end)

    async def request_agents(self, club: str) -> list[str]:
        """The agents the club's CRM sent requests to, in the order first seen."""
        async with self._engine.connect() as conn:
            return await reads.read_request_agents(conn, club)

    async def shift_reports(
        self, club: str, agent: str, shift: int | None = None
    ) -> list[ShiftReportRecord]:
        """One agent's shift reports."""
        async with self._engine.connect() as conn:
            return await reads.read_shift_reports(conn, club, agent, shift)

    async def transactions(self, club: str) -> list[Transaction]:
        """The club's CRM transactions."""
        async with self._engine.connect() as conn:
            return await reads.read_transactions(conn, club)

    async def audit(self, club: str) -> list[AuditRecord]:
        """The club's reissues and adoptions."""
        async with self._engine.connect() as conn:
            return await reads.read_audit(conn, club)

    async def health_history(self, club: str, agent: str) -> list[reads.HealthChange]:
        """One agent's state changes: (previous, state, boot, seq)."""
        async with self._engine.connect() as conn:
            return await reads.read_health_history(conn, club, agent)

    async def health_changes(
        self, club: str, agent: str, limit: int = 100
    ) -> list[HealthChangeRecord]:
        """One agent's newest ``limit`` state changes with their times (the support page)."""
        async with self._engine.connect() as conn:
            return await reads.read_health_changes(conn, club, agent, limit)
