"""Commands from the broker: decode, hand to the intake, acknowledge only what is committed.

The link delivers with manual acknowledgement, so the PUBACK of a message leaves only after
the intake committed it (or queued the answer to it). When the intake has no room (the outbox
is full, the disk is full or failing) the message is not acknowledged; since a broker delivers
an unacknowledged message again only on a new connection, and acknowledgements go in order,
the consumer drops the connection and the link reconnects after its backoff, until there is
room. Nothing here decides anything: parsing only, and the one intake for the rest.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

from agent.adapters.mqtt.topics import CommandTopic
from agent.intake.remote import Answer
from agent.outbox.crash_points import crash_point

if TYPE_CHECKING:
    import structlog

    from agent.adapters.mqtt.topics import Topics
    from agent.intake.remote import RemoteIntake
    from mqtt_link.incoming import Incoming
    from mqtt_link.link import MqttLink

__all__ = ["MAX_PAYLOAD_BYTES", "CommandConsumer"]

MAX_PAYLOAD_BYTES: Final = 1_000_000
"""A payload of this size or more is refused unread (a receipt of 100 items is a few KiB)."""


class CommandConsumer:
    """Reads the link's messages in order and answers each through the remote intake."""

    def __init__(
        self,
        *,
        link: MqttLink,
        remote: RemoteIntake,
        topics: Topics,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._link = link
        self._remote = remote
        self._topics = topics
        self._log = log.bind(component="mqtt_commands")
        self.taken = 0
        self.bounced = 0

    async def run(self) -> None:
        """Until cancelled."""
        async for message in self._link.messages():
            answer = await self.handle(message)
            if answer is Answer.TAKEN:
                crash_point("before_puback")  # tests: committed, not acknowledged
                self._link.ack(message)
                self.taken += 1
            elif message.connection == self._link.connection:
                self.bounced += 1
                self._log.warning("no_room_reconnecting", topic=message.topic, mid=message.mid)
                await self._link.bounce()
            # else: it came on a connection already dropped; the broker delivers it again

    async def handle(self, message: Incoming) -> Answer:
        """Decode one message and give it to the intake."""
        topic = message.topic
        kind = self._topics.command_of(topic)
        if kind is None:
            return await self._remote.undecodable(
                topic,
                "topic_not_served",
                f"the agent serves only {', '.join(self._topics.subscriptions)}",
            )
        if len(message.payload) >= MAX_PAYLOAD_BYTES:
            return await self._remote.undecodable(
                topic,
                "too_large",
                f"the payload is {len(message.payload)} bytes, the limit is under 1 MB",
            )
        try:
            data = json.loads(message.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return await self._remote.undecodable(
                topic, "invalid_json", f"the payload is not JSON: {exc}"
            )
        if kind is CommandTopic.RECEIPT:
            return await self._remote.receipt(topic, data)
        if kind is CommandTopic.CASH:
            return await self._remote.cash(topic, data)
        return await self._remote.shift(topic, data)
