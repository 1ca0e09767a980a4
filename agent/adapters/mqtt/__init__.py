"""The agent over MQTT: commands in, sync events and health out, over mqtt_link's link."""

from mqtt_link import (
    Incoming,
    LinkClosed,
    LinkDown,
    LinkSettings,
    MqttError,
    MqttLink,
    OnConnect,
    Protocol,
    PublishRefused,
    TlsSetupFailed,
    Will,
    build_ssl_context,
)

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
