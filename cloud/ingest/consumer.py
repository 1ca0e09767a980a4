"""The cloud's ingest: MQTT deliveries into the store, acknowledged only once committed.

Deliveries are collected into a batch (up to ``batch_size`` messages, or ``batch_window_s``
after the first), parsed against the contract, written with one store call per kind and
agent (cloud.ingest.writer), and only then acknowledged, in arrival order. While one batch
is written the next is collected and parsed; the next is written only once the one before is
committed and acknowledged. A cloud killed mid-batch has acknowledged nothing of it: the
broker delivers it again, and the store's idempotent writes take the copies without a change.

- A malformed message (a foreign topic, 1 MB or more, not JSON, not the contract) is logged
  with its reason, counted per reason, and acknowledged: it never stops the ingest.
- A store failure (the database is down) acknowledges nothing: the batch is written again
  after a jittered backoff, for as long as it takes. Nothing is dropped.
- ``on_batch`` (the metrics' histogram) gets each batch's age once it is acknowledged: from
  its first delivery to the commit, retries included.
- After the store committed a batch, the :class:`~cloud.ingest.waiters.ShiftWaiters` given
  (if any) are told of it: the close-shift check waits there for its X report.
- With ``[mqtt] shared`` on an MQTT 5 broker the subscriptions are shared
  (``$share/fiscal-cloud/...``): the broker splits the messages among the instances. Without it
  (one instance, the default) or on a 3.1.1 broker they are plain, and every instance would get
  every message, so only one instance may run then (it says so).

Use: ``group.create_task(link.run())``, then ``await Ingest(link, store).run()``; it ends
when the link is stopped (or when cancelled, e.g. while the store is down: nothing of the
batch in hand is acknowledged then).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import structlog

from cloud.ingest.parse import Malformed, Parsed, parse
from cloud.ingest.topics import filters
from cloud.ingest.waiters import ShiftWaiters
from cloud.ingest.writer import STORED_KINDS, write_batch
from cloud.store import CloudStore
from mqtt_link import Incoming, LinkClosed, LinkSettings, MqttLink, Protocol

__all__ = ["Ingest", "IngestSettings", "IngestStats", "ingest_link_settings"]


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """Batching and retry: a batch closes at ``batch_size`` messages or ``batch_window_s``."""

    batch_size: int = 500
    batch_window_s: float = 0.02
    retry_min_s: float = 0.2
    retry_max_s: float = 10.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.batch_window_s < 0:
            raise ValueError(f"batch_window_s must not be negative, not {self.batch_window_s}")
        if not 0 < self.retry_min_s <= self.retry_max_s:
            raise ValueError("need 0 < retry_min_s <= retry_max_s")


@dataclass(slots=True)
class IngestStats:
    """What this instance did: stored and skipped messages per kind, malformed per reason."""

    stored: Counter[str] = field(default_factory=Counter)
    not_stored: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    acked: int = 0
    store_failures: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready copy."""
        return {
            "stored": dict(self.stored),
            "not_stored": dict(self.not_stored),
            "malformed": dict(self.malformed),
            "batches": self.batches,
            "acked": self.acked,
            "store_failures": self.store_failures,
        }


def ingest_link_settings(base: LinkSettings, *, shared: bool = True) -> LinkSettings:
    """``base`` (broker, identity, TLS) with the ingest's subscriptions.

    With ``shared``, shared ones on MQTT 5 (several instances split the load), plain ones on
    3.1.1; without, plain ones everywhere (one instance; its offline queue survives a broker
    restart), and the link starts with MQTT 3.1.1: nothing of 5 is needed then, and paho
    decodes a 3.1.1 PUBLISH in about half the time (no properties). Each instance needs its
    own client id: the broker keeps each one's session, and with it the messages it had not
    acknowledged.
    """
    return replace(
        base,
        subscriptions=filters(shared=shared),
        subscriptions_v311=filters(shared=False),
        first_protocol=Protocol.V5 if shared else Protocol.V311,
    )


class Ingest:
    """Reads ``link`` into ``store`` until the link is stopped; see the module's docstring."""

    def __init__(
        self,
        link: MqttLink,
        store: CloudStore,
        settings: IngestSettings | None = None,
        *,
        log: structlog.typing.FilteringBoundLogger | None = None,
        rng: random.Random | None = None,
        waiters: ShiftWaiters | None = None,
        on_batch: Callable[[float], None] | None = None,
    ) -> None:
        self._link = link
        self._waiters = waiters
        self._on_batch = on_batch
        self._store = store
        self._settings = settings or IngestSettings()
        base = log if log is not None else structlog.get_logger("fiscal-cloud")
        self._log: structlog.typing.FilteringBoundLogger = base.bind(
            component="ingest", client_id=link.settings.client_id
        )
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.stats = IngestStats()
        link.add_on_connect(self._on_connect)

    def _on_connect(self, session_present: bool) -> None:
        subscriptions = self._link.settings.subscriptions
        is_shared = any(topic.startswith("$share/") for topic in subscriptions)
        if self._link.protocol is Protocol.V5 and is_shared:
            self._log.info("ingest_connected", protocol="5", shared=True, session=session_present)
        else:
            self._log.warning(
                "ingest_connected_without_shared_subscriptions",
                protocol=self._link.protocol.value,
                session=session_present,
                note="plain subscriptions: every instance gets every message, run only one",
            )

    async def run(self) -> None:
        """Batch, write, acknowledge, until the link is stopped.

        A batch is written while the next one is collected and parsed: the database's work
        (its driver's thread, its commit) overlaps the link's and the validation. Writes stay
        one at a time and in order, and each batch is acknowledged only once committed, before
        the next one is written.
        """
        writing: asyncio.Task[None] | None = None
        try:
            while True:
                batch, started, is_closed = await self._collect()
                parsed = self._parse(batch)
                if writing is not None:
                    await writing
                    writing = None
                if batch:
                    writing = asyncio.create_task(self._commit(batch, parsed, started))
                if is_closed:
                    break
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()  # cancelled: nothing of the batch in hand is acknowledged
                with contextlib.suppress(asyncio.CancelledError):
                    await writing

    async def _collect(self) -> tuple[list[Incoming], float, bool]:
        """One delivery, then what else is there: up to ``batch_size``, and when it began.

        After the first, the batch takes every delivery already received, lets the loop read
        the socket once more, and closes as soon as that brought nothing new (or at
        ``batch_size``, or ``batch_window_s`` after the first). It does not wait for more
        than what has arrived: a broker sends only so many unacknowledged messages, and the
        batch is acknowledged only once written, so waiting would only delay the next ones.
        """
        link = self._link
        loop = asyncio.get_running_loop()
        try:
            first = await link.receive()
        except LinkClosed:
            return [], loop.time(), True
        batch = [first]
        started = loop.time()
        deadline = started + self._settings.batch_window_s
        size = self._settings.batch_size
        while len(batch) < size:
            try:
                ready = link.receive_ready(size - len(batch))
            except LinkClosed:
                return batch, started, True
            if ready:
                batch += ready
                continue
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0)  # the socket's reader runs: whatever arrived is queued
            if link.pending == 0:
                break
        return batch, started, False

    def _parse(self, batch: list[Incoming]) -> list[Parsed]:
        """The batch's messages that follow the contract; the others logged and counted."""
        parsed: list[Parsed] = []
        for message in batch:
            outcome = parse(message.topic, message.payload)
            if isinstance(outcome, Malformed):
                self.stats.malformed[outcome.reason.value] += 1
                self._log.warning(
                    "ingest_malformed",
                    topic=outcome.topic,
                    reason=outcome.reason.value,
                    detail=outcome.detail,
                )
                continue
            parsed.append(outcome)
        return parsed

    async def _commit(self, batch: list[Incoming], parsed: list[Parsed], started: float) -> None:
        """Write the batch until the store takes it, then acknowledge all of it in order."""
        await self._write(parsed)
        if self._waiters is not None:
            self._waiters.notify(parsed)
        for item in parsed:
            kind = item.source.kind
            if kind in STORED_KINDS:
                self.stats.stored[kind.value] += 1
            else:
                self.stats.not_stored[kind.value] += 1
                self._log.info(
                    "ingest_not_stored",
                    kind=kind.value,
                    club=item.source.club,
                    agent=item.source.agent,
                    body=item.model.model_dump(mode="json"),
                )
        self.stats.batches += 1
        for message in batch:
            if self._link.ack(message):
                self.stats.acked += 1
        if self._on_batch is not None:
            self._on_batch(asyncio.get_running_loop().time() - started)

    async def _write(self, parsed: list[Parsed]) -> None:
        """Write until the store takes it: a failure is retried after a backoff, never dropped."""
        if not any(item.source.kind in STORED_KINDS for item in parsed):
            return
        failures = 0
        while True:
            try:
                await write_batch(self._store, parsed)
            except Exception as exc:  # noqa: BLE001 - any store failure: retry, never drop
                failures += 1
                self.stats.store_failures += 1
                delay = min(
                    self._settings.retry_max_s, self._settings.retry_min_s * 2 ** (failures - 1)
                )
                delay *= 0.5 + self._rng.random() / 2
                self._log.warning(
                    "ingest_store_failed",
                    messages=len(parsed),
                    attempt=failures,
                    retry_in_s=round(delay, 3),
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
                await asyncio.sleep(delay)
                continue
            if failures:
                self._log.info("ingest_store_recovered", attempts=failures + 1)
            return
