"""The cloud's Prometheus metrics (``GET /metrics``), in a registry of its own.

- The ingest's counters are read at scrape time from its :class:`~cloud.ingest.IngestStats`
  (messages stored per kind, malformed per reason, batches, store failures), so the ingest
  imports nothing of Prometheus;
- the batch age at commit (from the batch's first delivery to the store's commit, retries
  included) is a histogram fed by :meth:`CloudMetrics.batch_committed`, the ingest's
  ``on_batch``;
- the agents by the state of their newest health (online, degraded, offline) are read from
  the store at scrape time (:meth:`CloudMetrics.exposition`).

Each :class:`CloudMetrics` has its own :class:`~prometheus_client.CollectorRegistry`, never
the process-wide default one, so a test may build as many clouds as it likes.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cloud.ingest.consumer import IngestStats
from cloud.ingest.parse import Reason
from cloud.ingest.writer import STORED_KINDS
from cloud.store import CloudStore

__all__ = ["BATCH_AGE_BUCKETS_S", "METRICS_CONTENT_TYPE", "CloudMetrics"]

METRICS_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format every Prometheus server reads."""

BATCH_AGE_BUCKETS_S: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""From a batch window on a quiet link (tens of ms) to a database that was down a minute."""

HEALTH_STATES: Final = ("online", "degraded", "offline")
_PREFIX: Final = "fiscal_cloud"


class CloudMetrics:
    """Every metric of one cloud process."""

    def __init__(self, store: CloudStore) -> None:
        self.registry = CollectorRegistry()
        self._store = store
        self._batch_age = Histogram(
            f"{_PREFIX}_ingest_batch_age_seconds",
            "A batch's age when the store committed it: from its first delivery, retries"
            " included (the ingest's lag).",
            buckets=BATCH_AGE_BUCKETS_S,
            registry=self.registry,
        )
        self._ingest = _IngestCollector()
        self._agents = _AgentsCollector()
        self.registry.register(self._ingest)
        self.registry.register(self._agents)

    def watch_ingest(self, stats: IngestStats, *, connected: Callable[[], bool]) -> None:
        """Count what this ingest does (its stats are read at each scrape).

        ``connected`` says whether its link is connected to the broker and subscribed.
        """
        self._ingest.stats = stats
        self._ingest.connected = connected

    def batch_committed(self, age_s: float) -> None:
        """A batch was written and acknowledged ``age_s`` after its first delivery."""
        self._batch_age.observe(age_s)

    async def exposition(self) -> bytes:
        """Every metric in the Prometheus text format, the agents' states read from the store."""
        states: Tally[str] = Tally(record.health.state for record in await self._store.agents())
        self._agents.states = states
        return generate_latest(self.registry)


class _IngestCollector(Collector):
    """Counters from the ingest's own stats; none without an ingest (no ``[mqtt]``)."""

    def __init__(self) -> None:
        self.stats: IngestStats | None = None
        self.connected: Callable[[], bool] = lambda: False

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        if stats is None:
            return
        yield GaugeMetricFamily(
            f"{_PREFIX}_broker_connected",
            "1 while the ingest is connected to the broker and subscribed, else 0 (what it"
            " misses then waits in its persistent session, or is lost at QoS 0).",
            value=1 if self.connected() else 0,
        )
        stored = CounterMetricFamily(
            f"{_PREFIX}_ingest_stored_messages",
            "Messages the ingest wrote to the store, by kind (a redelivery counts again).",
            labels=["kind"],
        )
        for kind in sorted(kind.value for kind in STORED_KINDS):
            stored.add_metric([kind], stats.stored[kind])
        yield stored
        counted = CounterMetricFamily(
            f"{_PREFIX}_ingest_counted_messages",
            "Messages the ingest took and does not store (evt/command, evt/rejected), by kind.",
            labels=["kind"],
        )
        for kind, count in sorted(stats.not_stored.items()):
            counted.add_metric([kind], count)
        yield counted
        malformed = CounterMetricFamily(
            f"{_PREFIX}_ingest_malformed_messages",
            "Messages refused as not the contract, by reason (acknowledged, never stored).",
            labels=["reason"],
        )
        for reason in Reason:
            malformed.add_metric([reason.value], stats.malformed[reason.value])
        yield malformed
        yield CounterMetricFamily(
            f"{_PREFIX}_ingest_batches", "Batches written and acknowledged.", value=stats.batches
        )
        yield CounterMetricFamily(
            f"{_PREFIX}_ingest_store_failures",
            "Writes the store refused (the batch is written again after a backoff).",
            value=stats.store_failures,
        )


class _AgentsCollector(Collector):
    """Agents by the state of their newest health, as handed over at scrape time."""

    def __init__(self) -> None:
        self.states: Tally[str] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.states is None:
            return
        gauge = GaugeMetricFamily(
            f"{_PREFIX}_agents",
            "Known agents by the state of their newest health (online, degraded, offline).",
            labels=["state"],
        )
        for state in HEALTH_STATES:
            gauge.add_metric([state], self.states[state])
        yield gauge
