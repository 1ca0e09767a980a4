"""What went wrong with the MQTT link to the broker, and what to do about it.

The link itself never raises out of its background task: it logs, backs off and reconnects.
These errors reach the callers of ``publish``, ``wait_connected`` and ``receive``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

__all__ = [
    "LinkClosed",
    "LinkDown",
    "MqttError",
    "PublishRefused",
    "TlsSetupFailed",
]


class MqttError(Exception):
    """Base of the MQTT link's errors."""

    passes_by_itself: ClassVar[bool] = True
    """The link reconnects by itself: wait and try again (each user maps this to its own terms)."""
    public_code: str = "mqtt_error"
    """The stable code in health's ``last_error`` (docs/errors.md)."""


class LinkDown(MqttError):
    """Not connected to the broker, or the connection dropped before the broker acknowledged.

    Nothing says whether the broker got a message whose acknowledgement was lost: send it
    again once the link is back (QoS 1 is at least once; receivers drop duplicates by id).
    """

    public_code = "mqtt_link_down"

    def __init__(
        self, url: str, reason: str, *, topic: str | None = None, was_sent: bool = False
    ) -> None:
        self.url = url
        self.reason = reason
        self.topic = topic
        self.was_sent = was_sent
        what = ""
        if topic and was_sent:
            what = f"; the publish to {topic} was not acknowledged (the broker may have it)"
        elif topic:
            what = f"; nothing was published to {topic}"
        super().__init__(
            f"MQTT link to {url} is down: {reason}{what}; it reconnects by itself, "
            "check that the broker runs and [mqtt] url points at it"
        )


class PublishRefused(MqttError):
    """The broker answered a publish with a failure reason code (MQTT 5 PUBACK >= 0x80)."""

    public_code = "mqtt_publish_refused"

    def __init__(self, url: str, topic: str, reason_code: int, reason: str) -> None:
        self.url = url
        self.topic = topic
        self.reason_code = reason_code
        self.reason = reason
        super().__init__(
            f"broker {url} refused the publish to {topic}: {reason} (0x{reason_code:02X}); "
            "check the broker's access rules for this client"
        )


class LinkClosed(MqttError):
    """The link was stopped: no more messages come from it."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"the MQTT link to {url} was stopped")


class TlsSetupFailed(MqttError):
    """A CA, certificate or key file of ``[mqtt]`` cannot be used to build the TLS context."""

    def __init__(self, path: Path | None, reason: str) -> None:
        self.path = path
        self.reason = reason
        where = f"{path}: " if path else ""
        super().__init__(f"cannot set up TLS for MQTT: {where}{reason}; fix [mqtt] ca/cert/key")
