"""The cloud's composition root: the store and the API, with the MQTT ingest as a seam.

``run_cloud(config)`` opens the store, serves the API and waits until cancelled. The ingest
(``evt/*`` and the CRM's ``cmd/receipt`` into the store) and the :class:`Publisher` for
reissue come from the MQTT side; until it is wired here ``[mqtt]`` is read but not used, the
API answers reissue with 503 ``mqtt_unavailable`` and the log says so.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from cloud.api import Publisher, build_api
from cloud.config import CloudConfig
from cloud.store import CloudStore

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
    if config.mqtt.url is not None and publisher is None:
        _log.warning("the MQTT ingest is not wired yet: [mqtt] is not used", url=config.mqtt.url)
    async with await CloudStore.open(config.store.url) as store:
        api = build_api(
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
