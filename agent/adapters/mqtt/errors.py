"""The MQTT link's errors (mqtt_link.errors) in the agent's terms: their disposition."""

from __future__ import annotations

from agent.drivers.errors import Disposition
from mqtt_link.errors import MqttError

__all__ = ["disposition_of"]


def disposition_of(exc: MqttError) -> Disposition:
    """WAIT for a failure the link gets over by itself (all of them today), REJECT otherwise."""
    return Disposition.WAIT if exc.passes_by_itself else Disposition.REJECT
