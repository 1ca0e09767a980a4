"""MQTT link: the agent's connection to the broker (docs/design.md, "The broker")."""

from agent.adapters.mqtt.errors import (
    LinkClosed,
    LinkDown,
    MqttError,
    PublishRefused,
    TlsSetupFailed,
)
from agent.adapters.mqtt.incoming import Incoming
from agent.adapters.mqtt.link import MqttLink, OnConnect
from agent.adapters.mqtt.policy import Protocol
from agent.adapters.mqtt.settings import LinkSettings, Will, build_ssl_context

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
