"""The agent's Prometheus metrics (``GET /metrics``), in a registry of its own.

Counters and the round-trip histogram are fed by plain callables that the composition root
hands to the layers below, so nothing under the adapters imports ``prometheus_client``:

- :meth:`AgentMetrics.receipt_result` listens to the outbox (``Outbox.add_result_listener``);
- :meth:`AgentMetrics.register_error` is the worker's ``on_error``;
- :meth:`AgentMetrics.round_trip` is the driver's ``on_round_trip``.

The gauges are read from a Health at scrape time (:meth:`AgentMetrics.exposition`): the same
figures ``GET /api/v1/health`` answers, from the same snapshot, so a scrape costs what a health
request costs. A figure health does not know (no shift open, the register never reached, no
MQTT link) is left out rather than reported as zero; an age with nothing waiting is 0.

Each :class:`AgentMetrics` has its own :class:`~prometheus_client.CollectorRegistry`, never the
process-wide default one, so a test may build as many agents as it likes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.outbox.states import RowKind, RowState
from agent.outbox.sync_queue import PUBLISHED_STATES

if TYPE_CHECKING:
    from agent.contract import Health

__all__ = ["METRICS_CONTENT_TYPE", "ROUND_TRIP_BUCKETS_S", "AgentMetrics"]

METRICS_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format every Prometheus server reads."""

ROUND_TRIP_BUCKETS_S: Final = (
    0.001,
    0.0025,
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
"""From a status poll on a fast link (milliseconds) to a Z report that prints (up to a minute)."""

_PREFIX: Final = "fiscal_agent"


class AgentMetrics:
    """Every metric of one agent, and the callables that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._receipts = Counter(
            f"{_PREFIX}_receipts",
            "Receipt results the outbox stored, by status (a row settled later counts again).",
            ["status"],
            registry=self.registry,
        )
        for state in sorted(PUBLISHED_STATES, key=lambda s: s.value):
            self._receipts.labels(status=state.value)  # every status present from the start
        self._errors = Counter(
            f"{_PREFIX}_driver_errors",
            "Errors a register operation ended with, after the driver's own retries, by code"
            " (docs/errors.md).",
            ["code"],
            registry=self.registry,
        )
        self._round_trips = Histogram(
            f"{_PREFIX}_register_round_trip_seconds",
            "One command's exchange with the register, from its first byte sent to the"
            " answer, by command.",
            ["command"],
            buckets=ROUND_TRIP_BUCKETS_S,
            registry=self.registry,
        )
        # One labelled child per command, looked up once: labels() costs a lock and a
        # tuple build on every round trip (several per receipt).
        self._round_trip_of: dict[str, Histogram] = {}
        self._health = _HealthCollector()
        self.registry.register(self._health)

    def receipt_result(self, kind: RowKind, state: RowState) -> None:
        """An outbox row reached a published state (``Outbox.add_result_listener``)."""
        if kind is RowKind.RECEIPT:
            self._receipts.labels(status=state.value).inc()

    def register_error(self, code: str) -> None:
        """A register operation ended with this error code (the worker's ``on_error``)."""
        self._errors.labels(code=code).inc()

    def round_trip(self, command: str, seconds: float) -> None:
        """One answered exchange with the register (the driver's ``on_round_trip``)."""
        child = self._round_trip_of.get(command)
        if child is None:
            child = self._round_trip_of[command] = self._round_trips.labels(command=command)
        child.observe(seconds)

    def exposition(self, health: Health) -> bytes:
        """Every metric in the Prometheus text format, the gauges read from ``health``."""
        self._health.health = health
        return generate_latest(self.registry)


class _HealthCollector(Collector):
    """Gauges from the Health last handed to :meth:`AgentMetrics.exposition`."""

    def __init__(self) -> None:
        self.health: Health | None = None

    def collect(self) -> Iterator[Metric]:
        health = self.health
        if health is None:
            return
        yield from _outbox_gauges(health)
        yield from _register_gauges(health)
        yield from _sync_gauges(health)


def _gauge(name: str, documentation: str, value: float | None) -> Iterator[Metric]:
    if value is not None:
        yield GaugeMetricFamily(f"{_PREFIX}_{name}", documentation, value=value)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


def _outbox_gauges(health: Health) -> Iterator[Metric]:
    outbox = health.outbox
    if outbox is not None:
        depth = GaugeMetricFamily(
            f"{_PREFIX}_outbox_depth",
            "Outbox rows by state: pending (printing included), failed, unknown.",
            labels=["state"],
        )
        depth.add_metric(["pending"], outbox.pending)
        depth.add_metric(["failed"], outbox.failed)
        depth.add_metric(["unknown"], outbox.unknown)
        yield depth
        yield from _gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest row waiting for the register (0: none waits).",
            outbox.oldest_pending_age_s or 0.0,
        )
    line = health.line
    yield from _gauge(
        "line_stopped",
        "1 while printing is held behind a receipt whose outcome is being established.",
        _flag(line.stopped if line is not None else None),
    )


def _register_gauges(health: Health) -> Iterator[Metric]:
    yield from _gauge(
        "degraded", "1 while health says degraded, 0 while online.", _flag(health.state != "online")
    )
    register = health.register
    yield from _gauge(
        "register_link_up",
        "1 while the register answers.",
        _flag(register.link == "up" if register is not None else None),
    )
    shift = health.shift
    if shift is not None:
        yield from _gauge("shift_open", "1 while a shift is open on the register.", shift.open)
        yield from _gauge(
            "shift_age_seconds",
            "Age of the open shift on the register's clock.",
            shift.age_s if shift.open else None,
        )
    fn = health.fn
    if fn is not None:
        yield from _gauge(
            "fn_days_left", "Days until the fiscal storage (FN) expires.", fn.days_left
        )
        yield from _gauge(
            "fn_unsent_documents",
            "Documents the FN holds that the OFD has not confirmed.",
            fn.unsent_docs,
        )


def _sync_gauges(health: Health) -> Iterator[Metric]:
    sync = health.sync
    if sync is None:
        return
    yield from _gauge(
        "sync_queue_depth", "Results and reports waiting for the broker.", sync.pending
    )
    yield from _gauge(
        "sync_oldest_age_seconds",
        "Age of the oldest entry waiting for the broker (0: none waits).",
        sync.oldest_pending_age_s or 0.0,
    )
    yield from _gauge(
        "broker_connected",
        "1 while the agent is connected to its MQTT broker.",
        _flag(sync.broker == "up" if sync.broker is not None else None),
    )
