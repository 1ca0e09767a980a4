"""The sync queue to the broker: at least once, in queue order, at a bounded rate.

The publisher reads the oldest entries of the durable sync queue, publishes each on
``evt/<topic>`` at QoS 1 with a window of messages in flight on the one connection (so the
broker receives them in queue order), and removes an entry only once the broker acknowledged
it. When the connection drops, what was in flight stays in the queue and is sent again from
the oldest entry after the reconnect: a result may arrive twice, never altered for the same
state of its row. After an outage the backlog drains no faster than ``rate_per_s``, so a club
coming back online does not flood the broker or the cloud.

An entry that refers to an outbox row is rendered from the row as it stands when it is sent
(a row that was ``unknown`` and is settled by then is sent as it is now); a row pruned
meanwhile has nothing left to say and its entry is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Final

from agent.intake.receipt_mapping import row_to_outcome, row_to_result
from agent.outbox.states import RowKind
from agent.outbox.sync_queue import SyncTopic
from mqtt_link.errors import LinkDown

if TYPE_CHECKING:
    import structlog
    from pydantic import BaseModel

    from agent.adapters.mqtt.topics import Topics
    from agent.outbox.store import Outbox
    from agent.outbox.sync_queue import SyncEntry, SyncQueue
    from mqtt_link.link import MqttLink

__all__ = ["DEFAULT_RATE_PER_S", "DEFAULT_WINDOW", "SyncPublisher"]

DEFAULT_WINDOW: Final = 32
"""Messages in flight at once (each waits for its PUBACK)."""
DEFAULT_RATE_PER_S: Final = 200.0
IDLE_POLL_S: Final = 1.0
"""With nothing to send, look at the queue this often even without a wake-up."""
CONNECTED_WAIT_S: Final = 60.0
PAUSE_S: Final = 0.5
"""After the link dropped mid-drain, this long before looking again."""


class SyncPublisher:
    """Drains the sync queue onto the broker while the link is up."""

    def __init__(
        self,
        *,
        link: MqttLink,
        queue: SyncQueue,
        outbox: Outbox,
        topics: Topics,
        log: structlog.typing.FilteringBoundLogger,
        window: int = DEFAULT_WINDOW,
        rate_per_s: float = DEFAULT_RATE_PER_S,
    ) -> None:
        if window < 1 or rate_per_s <= 0:
            msg = "window must be at least 1 and rate_per_s above zero"
            raise ValueError(msg)
        self._link = link
        self._queue = queue
        self._outbox = outbox
        self._topics = topics
        self._log = log.bind(component="mqtt_sync")
        self._window = window
        self._interval = 1.0 / rate_per_s
        self._wake = asyncio.Event()
        self._acked: list[SyncEntry] = []
        self.published = 0

    def wake(self) -> None:
        """Something was queued: look now (call from the event loop's thread)."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: drain whenever the link is up."""
        while True:
            try:
                await self._link.wait_connected(CONNECTED_WAIT_S)
            except LinkDown:
                continue  # still down: the link keeps trying; so do we
            try:
                await self._drain()
            except LinkDown as exc:
                self._log.info("sync_paused", reason=str(exc))
                await asyncio.sleep(PAUSE_S)  # never a hot loop while the link settles
            finally:
                await self._flush_acks()

    async def _drain(self) -> None:
        slots = asyncio.Semaphore(self._window)
        in_flight: set[asyncio.Task[None]] = set()
        failed: list[LinkDown] = []
        after = 0
        next_at = time.monotonic()
        try:
            while not failed:
                entries = await asyncio.to_thread(
                    self._queue.batch, after=after, limit=self._window
                )
                if not entries:
                    await self._flush_acks()
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(IDLE_POLL_S):
                            await self._wake.wait()
                    continue
                for entry in entries:
                    await slots.acquire()
                    if failed:
                        break
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at = max(next_at, time.monotonic() - self._interval) + self._interval
                    task = asyncio.create_task(self._send(entry, slots, failed))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    after = entry.seq
                if len(self._acked) >= self._window:
                    await self._flush_acks()
            raise failed[0]
        finally:
            for task in list(in_flight):
                task.cancel()
            for task in list(in_flight):
                with contextlib.suppress(asyncio.CancelledError, LinkDown):
                    await task

    async def _send(
        self, entry: SyncEntry, slots: asyncio.Semaphore, failed: list[LinkDown]
    ) -> None:
        try:
            payload = await self._render(entry)
            if payload is not None:
                await self._link.publish(self._topics.event(entry.topic), payload, qos=1)
                self.published += 1
            self._acked.append(entry)
        except LinkDown as exc:
            failed.append(exc)
        finally:
            slots.release()

    async def _render(self, entry: SyncEntry) -> bytes | None:
        if entry.payload is not None:
            return entry.payload.encode("utf-8")
        assert entry.ref is not None
        row = await asyncio.to_thread(self._outbox.get, entry.ref)
        if row is None:
            self._log.info("sync_entry_without_row", request_id=entry.ref)
            return None
        model: BaseModel = (
            row_to_outcome(row)
            if row.kind is RowKind.CASH and entry.topic is SyncTopic.COMMAND
            else row_to_result(row)
        )
        return model.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")

    async def _flush_acks(self) -> None:
        if not self._acked:
            return
        done, self._acked = self._acked, []
        await asyncio.to_thread(self._queue.acknowledge_many, done)
