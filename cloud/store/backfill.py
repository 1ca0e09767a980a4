"""Schema version 2's typed columns filled from the payloads a version 1 database holds.

Each stored request, result and document is read back into its contract model once and its
row computed by the same function the writes use (cloud.store.writes), so an upgraded
database holds exactly what a new one would. It runs inside the migration's transaction, in
pages of :data:`PAGE` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult
from cloud.store.schema import ADDED_IN_V2, crm_requests, documents, results
from cloud.store.writes import document_row, request_row, result_row

__all__ = ["PAGE", "backfill_v2"]

PAGE: Final = 2_000

_RowOf = Callable[[Row[tuple[object, ...]]], dict[str, object]]


def _request(row: Row[tuple[object, ...]]) -> dict[str, object]:
    request = ReceiptRequest.model_validate_json(str(row.payload))
    out = request_row(str(row.club), str(row.agent), request, row.received_at)
    if row.paid_at is not None:  # kept as stored: the time placing it in a shift
        out["placed_at"] = row.paid_at
    return out


def _result(row: Row[tuple[object, ...]]) -> dict[str, object]:
    result = ReceiptResult.model_validate_json(str(row.payload))
    return result_row(str(row.club), str(row.agent), result, row.received_at)


def _document(row: Row[tuple[object, ...]]) -> dict[str, object]:
    document = FiscalDocument.model_validate_json(str(row.payload))
    return document_row(str(row.club), str(row.agent), document, row.received_at)


_STEPS: Final[tuple[tuple[Table, _RowOf], ...]] = (
    (crm_requests, _request),
    (results, _result),
    (documents, _document),
)


async def _fill(conn: AsyncConnection, table: Table, row_of: _RowOf) -> None:
    added = ADDED_IN_V2[table.name]
    stmt = (
        update(table)
        .where(table.c.pk == bindparam("b_pk"))
        .values({name: bindparam(f"b_{name}") for name in added})
    )
    after = 0
    while True:
        page = (
            await conn.execute(
                select(table).where(table.c.pk > after).order_by(table.c.pk).limit(PAGE)
            )
        ).all()
        if not page:
            return
        params = []
        for row in page:
            values = row_of(row)
            params.append({"b_pk": row.pk, **{f"b_{name}": values[name] for name in added}})
        await conn.execute(stmt, params)
        after = page[-1].pk


async def backfill_v2(conn: AsyncConnection) -> None:
    """Fill the columns version 2 added from every stored payload."""
    for table, row_of in _STEPS:
        await _fill(conn, table, row_of)
