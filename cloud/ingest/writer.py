"""One batch of parsed messages into the store: one call per kind and agent, healths in order.

The store's writes are idempotent (cloud.store.writes), so a batch written again after a
failure or a redelivery changes nothing. ``evt/command`` and ``evt/rejected`` have no place in
the store yet: they are counted and logged by the consumer, not written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import cast

from agent.contract import FiscalDocument, Health, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.ingest.parse import Parsed
from cloud.ingest.topics import Kind
from cloud.store import CloudStore

__all__ = ["STORED_KINDS", "write_batch"]

STORED_KINDS = frozenset({Kind.REQUEST, Kind.RESULT, Kind.DOCUMENT, Kind.SHIFT, Kind.HEALTH})


async def write_batch(store: CloudStore, batch: Sequence[Parsed]) -> Counter[Kind]:
    """Write every stored kind of ``batch``; returns how many of each kind were written.

    Raises whatever the store raises (the database is down): nothing of the batch may then
    be taken as stored, and the caller writes it all again.
    """
    grouped: dict[tuple[Kind, str, str], list[Parsed]] = defaultdict(list)
    for parsed in batch:
        if parsed.source.kind in STORED_KINDS and parsed.source.kind is not Kind.HEALTH:
            grouped[parsed.source.kind, parsed.source.club, parsed.source.agent].append(parsed)
    written: Counter[Kind] = Counter()
    for (kind, club, agent), group in grouped.items():
        models = [parsed.model for parsed in group]
        if kind is Kind.REQUEST:
            await store.record_requests(club, agent, cast("list[ReceiptRequest]", models))
        elif kind is Kind.RESULT:
            await store.record_results(club, agent, cast("list[ReceiptResult]", models))
        elif kind is Kind.DOCUMENT:
            await store.record_documents(club, agent, cast("list[FiscalDocument]", models))
        else:
            await store.record_shift_reports(club, agent, cast("list[ShiftReport]", models))
        written[kind] += len(group)
    # Healths one by one in arrival order: the store keeps the newest by (boot, seq).
    for parsed in batch:
        if parsed.source.kind is Kind.HEALTH:
            health = cast("Health", parsed.model)
            await store.record_health(parsed.source.club, parsed.source.agent, health)
            written[Kind.HEALTH] += 1
    return written
