"""The cloud's composition root: the store, the MQTT ingest and the API.

``run_cloud(config)`` opens the store and connects to the broker of ``[mqtt] url``, or with no
URL starts a broker of its own on ``[mqtt] local_listen`` (cloud/local_broker.py: Mosquitto
where the machine has it, else amqtt): the ingest stores ``evt/*``, health and the CRM's
``cmd/receipt`` (acknowledging only after the store committed), and the same link publishes
reissued receipts and the close-shift check's ``cmd/shift``. With neither (``local_listen =
""``) the API serves what the store holds and answers reissue with 503 ``mqtt_unavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web
from sqlalchemy.engine import make_url

from cloud.api import Publisher, build_api
from cloud.config import CloudConfig
from cloud.ingest.consumer import Ingest, ingest_link_settings
from cloud.ingest.waiters import ShiftWaiters
from cloud.local_broker import local_broker
from cloud.metrics import CloudMetrics
from cloud.store import CloudStore
from cloud.web import add_support_page
from mqtt_link import LinkSettings, MqttError, MqttLink

__all__ = ["run_cloud"]

_log = structlog.get_logger("cloud.app")


async def run_cloud(config: CloudConfig, *, publisher: Publisher | None = None) -> None:
    """Serve the API over the configured store until cancelled.

    Raises:
        cloud.config.ConfigError: a non-loopback address without ``[auth]`` tokens.
    """
    config.check_access()
    if not config.auth.enabled:
        _log.warning(
            "no [auth] tokens: the API is open to this machine only", listen=config.http.listen
        )
    async with (
        await CloudStore.open(config.store.url) as store,
        _broker_url(config) as mqtt_url,
    ):
        link: MqttLink | None = None
        tasks: list[asyncio.Task[None]] = []
        waiters: ShiftWaiters | None = None
        metrics = CloudMetrics(store)
        if mqtt_url is not None:
            settings = ingest_link_settings(_link_settings(mqtt_url), shared=config.mqtt.shared)
            link = MqttLink(settings, log=_log)
            waiters = ShiftWaiters()
            ingest = Ingest(
                link, store, log=_log, waiters=waiters, on_batch=metrics.batch_committed
            )
            metrics.watch_ingest(ingest.stats, connected=lambda: link.is_connected)
            tasks = [
                asyncio.create_task(link.run(), name="cloud.link"),
                asyncio.create_task(ingest.run(), name="cloud.ingest"),
            ]
            publisher = publisher or _LinkPublisher(link)
        else:
            _log.warning("no [mqtt] url or local_listen: nothing is ingested, reissue answers 503")
        api = build_api(
            store,
            auth=config.auth,
            publisher=publisher,
            ofd_url_template=config.ofd.url_template,
            waiters=waiters,
            metrics=metrics,
        )
        add_support_page(
            api,
            store,
            auth=config.auth,
            publisher=publisher,
            ofd_url_template=config.ofd.url_template,
        )
        runner = web.AppRunner(api, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, config.http.host, config.http.port)
            await site.start()
            _log.info("listening", listen=config.http.listen, store=store.dialect)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            if link is not None:
                await link.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@contextlib.asynccontextmanager
async def _broker_url(config: CloudConfig) -> AsyncIterator[str | None]:
    """``[mqtt] url``; without it, the URL of a broker of the cloud's own while it runs."""
    mqtt = config.mqtt
    if mqtt.url is not None or mqtt.local_listen is None:
        yield mqtt.url
        return
    workdir = Path(mqtt.local_dir) if mqtt.local_dir else _default_broker_dir(config.store.url)
    async with local_broker(
        mqtt.local_host, mqtt.local_port, workdir, kind=mqtt.local_broker
    ) as broker:
        yield broker.url


def _default_broker_dir(store_url: str) -> Path:
    """Beside the SQLite store (one directory holds the cloud's state), else /var/lib."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "broker"
    return Path("/var/lib/fiscal-cloud/broker")


class _LinkPublisher:
    """Reissue over the ingest's own link (QoS 1, returns once the broker has it)."""

    def __init__(self, link: MqttLink) -> None:
        self._link = link

    async def publish(self, topic: str, payload: bytes) -> None:
        try:
            await self._link.publish(topic, payload, qos=1)
        except MqttError as exc:  # the API's contract: OSError when the broker is out of reach
            raise OSError(str(exc)) from exc


def _link_settings(url: str) -> LinkSettings:
    """One client id per host: instances on several machines share the load ($share)."""
    return LinkSettings(url=url, client_id=f"fiscal-cloud-{socket.gethostname()}")
