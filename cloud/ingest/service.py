"""The ingest as a running service: a link, a store and the consumer, until told to stop."""

from __future__ import annotations

import asyncio

import structlog

from cloud.ingest.consumer import Ingest, IngestSettings, IngestStats, ingest_link_settings
from cloud.store import CloudStore
from mqtt_link import LinkSettings, MqttLink

__all__ = ["serve"]


async def serve(
    link_settings: LinkSettings,
    store_url: str,
    *,
    stop: asyncio.Event,
    settings: IngestSettings | None = None,
    log: structlog.typing.FilteringBoundLogger | None = None,
    shared: bool = True,
) -> IngestStats:
    """Open the store, connect, ingest until ``stop`` is set; returns what was done.

    On stop the link is stopped first: the batch in hand is written and acknowledged if the
    store takes it; whatever is left unacknowledged the broker delivers again later.
    """
    base = log if log is not None else structlog.get_logger("fiscal-cloud")
    async with await CloudStore.open(store_url) as store:
        link = MqttLink(ingest_link_settings(link_settings, shared=shared), log=base)
        ingest = Ingest(link, store, settings, log=base)
        async with asyncio.TaskGroup() as group:
            group.create_task(link.run(), name="ingest-link")
            consumer = group.create_task(ingest.run(), name="ingest-consumer")
            await stop.wait()
            await link.stop()
            await consumer
        return ingest.stats
