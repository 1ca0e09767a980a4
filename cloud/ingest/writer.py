"""One batch of parsed messages into the store: one transaction for all, healths in order.

The store's writes are idempotent (cloud.store.writes), so a batch written again after a
failure or a redelivery changes nothing. ``evt/command`` and ``evt/rejected`` have no place in
the store yet: they are counted and logged by the consumer, not written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, cast

from agent.contract import FiscalDocument, Health, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.ingest.parse import Parsed
from cloud.ingest.topics import Kind
from cloud.store import CloudStore
from cloud.store.store import AgentKey

__all__ = ["STORED_KINDS", "write_batch"]

STORED_KINDS = frozenset({Kind.REQUEST, Kind.RESULT, Kind.DOCUMENT, Kind.SHIFT, Kind.HEALTH})


async def write_batch(store: CloudStore, batch: Sequence[Parsed]) -> Counter[Kind]:
    """Write every stored kind of ``batch``; returns how many of each kind were written.

    Raises whatever the store raises (the database is down): nothing of the batch may then
    be taken as stored, and the caller writes it all again.
    """
    grouped: dict[Kind, dict[tuple[str, str], list[Any]]] = defaultdict(lambda: defaultdict(list))
    written: Counter[Kind] = Counter()
    for parsed in batch:
        kind = parsed.source.kind
        if kind in STORED_KINDS and kind is not Kind.HEALTH:
            grouped[kind][parsed.source.club, parsed.source.agent].append(parsed.model)
            written[kind] += 1
    if grouped:  # one transaction for every agent of the batch, not one per agent and kind
        await store.record_batch(
            requests=cast("dict[AgentKey, list[ReceiptRequest]]", grouped.get(Kind.REQUEST)),
            results=cast("dict[AgentKey, list[ReceiptResult]]", grouped.get(Kind.RESULT)),
            documents=cast("dict[AgentKey, list[FiscalDocument]]", grouped.get(Kind.DOCUMENT)),
            shift_reports=cast("dict[AgentKey, list[ShiftReport]]", grouped.get(Kind.SHIFT)),
        )
    # Healths one by one in arrival order: the store keeps the newest by (boot, seq).
    for parsed in batch:
        if parsed.source.kind is Kind.HEALTH:
            health = cast("Health", parsed.model)
            await store.record_health(parsed.source.club, parsed.source.agent, health)
            written[Kind.HEALTH] += 1
    return written
