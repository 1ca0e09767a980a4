"""The agent on MQTT: one link, the commands it takes, the queue it drains, its health.

Built from ``[mqtt]`` of the config. The link keeps a persistent session (clean start off,
session expiry of days) under a stable client id, ``fiscal-agent-{club}-{agent}`` unless the
config names one, so commands published while the agent is away wait at the broker. The
agent works with the broker gone: receipts print, results wait in the sync queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Final

from agent.adapters.mqtt.consumer import CommandConsumer
from agent.adapters.mqtt.health_publisher import HealthPublisher, offline_payload
from agent.adapters.mqtt.publisher import SyncPublisher
from agent.adapters.mqtt.topics import Topics
from mqtt_link.link import MqttLink
from mqtt_link.settings import LinkSettings, Will

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import structlog

    from agent.config import AgentConfig
    from agent.contract import Health
    from agent.intake.remote import RemoteIntake
    from agent.outbox.store import Outbox
    from agent.outbox.sync_queue import SyncQueue

__all__ = ["MqttAdapter", "client_id_of", "link_settings"]

DAY_S: Final = 86_400
RESTART_DELAY_S: Final = 1.0


def client_id_of(config: AgentConfig) -> str:
    """The MQTT client id: the configured one, else ``fiscal-agent-{club}-{agent}``."""
    return config.mqtt.client_id or f"fiscal-agent-{config.club}-{config.agent}"


def link_settings(config: AgentConfig, *, boot: int) -> LinkSettings:
    """The link's settings from ``[mqtt]``, with the last will of this boot."""
    mqtt = config.mqtt
    topics = Topics(config.club, config.agent)
    password = mqtt.password.get_secret_value()
    return LinkSettings(
        url=mqtt.url,
        client_id=client_id_of(config),
        username=mqtt.username or None,
        password=password if mqtt.username else None,
        ca_file=mqtt.ca,
        cert_file=mqtt.cert,
        key_file=mqtt.key,
        keepalive_s=mqtt.keepalive_s,
        session_expiry_s=mqtt.session_expiry_days * DAY_S,
        will=Will(topic=topics.health, payload=offline_payload(boot), retain=True, qos=1),
        subscriptions=topics.subscriptions,
    )


class MqttAdapter:
    """Runs the link and its three loops; :meth:`stop` says goodbye in order."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        boot: int,
        remote: RemoteIntake,
        queue: SyncQueue,
        outbox: Outbox,
        health: Callable[[], Awaitable[Health]],
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.topics = Topics(config.club, config.agent)
        self.link = MqttLink(link_settings(config, boot=boot), log=log)
        self.consumer = CommandConsumer(link=self.link, remote=remote, topics=self.topics, log=log)
        self.publisher = SyncPublisher(
            link=self.link,
            queue=queue,
            outbox=outbox,
            topics=self.topics,
            log=log,
            rate_per_s=config.mqtt.drain_rate,
        )
        self.health = HealthPublisher(
            link=self.link,
            health=health,
            topic=self.topics.health,
            boot=boot,
            log=log,
            interval_s=config.mqtt.health_interval_s,
        )
        self.link.add_on_connect(self.health.publish_soon)
        loop = asyncio.get_running_loop()

        def wake_publisher() -> None:  # called from the thread that committed
            loop.call_soon_threadsafe(self.publisher.wake)

        outbox.add_queue_listener(wake_publisher)
        self._tasks: list[asyncio.Task[None]] = []
        self._link_task: asyncio.Task[None] | None = None
        self._log = log.bind(component="mqtt")

    async def start(self) -> None:
        """Connect in the background and start the loops; returns at once."""
        self._link_task = asyncio.create_task(self.link.run(), name="mqtt.link")
        self._tasks = [
            asyncio.create_task(
                self._supervised("commands", self.consumer.run), name="mqtt.commands"
            ),
            asyncio.create_task(self._supervised("sync", self.publisher.run), name="mqtt.sync"),
            asyncio.create_task(self._supervised("health", self.health.run), name="mqtt.health"),
        ]

    async def _supervised(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """A loop that fails on a bug is logged and started again: the agent keeps printing."""
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug in one loop must not stop the agent
                self._log.exception("mqtt_loop_failed", loop=name)
                await asyncio.sleep(RESTART_DELAY_S)

    async def stop(self) -> None:
        """Stop the loops, publish ``offline`` (retained) and disconnect cleanly."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        final = self.health.final_message() if self.link.is_connected else None
        await self.link.stop(final)
        if self._link_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._link_task
