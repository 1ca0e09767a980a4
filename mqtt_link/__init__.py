"""MQTT link: a connection to the broker with manual acknowledgement (docs/design.md, "The broker").

Shared by the agent (agent/adapters/mqtt/) and the cloud (cloud/ingest/); it imports neither.
"""

from mqtt_link.errors import (
    LinkClosed,
    LinkDown,
    MqttError,
    PublishRefused,
    TlsSetupFailed,
)
from mqtt_link.incoming import Incoming
from mqtt_link.link import MqttLink, OnConnect
from mqtt_link.policy import Protocol
from mqtt_link.settings import LinkSettings, Will, build_ssl_context

__all__ = [
    "Incoming",
    "LinkClosed",
    "LinkDown",
    "LinkSettings",
    "MqttError",
    "MqttLink",
    "OnConnect",
    "Protocol",
    "PublishRefused",
    "TlsSetupFailed",
    "Will",
    "build_ssl_context",
]
