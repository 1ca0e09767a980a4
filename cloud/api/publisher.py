"""What the API needs from MQTT: publish one payload (the ingest's link implements it)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Publisher", "receipt_topic"]


class Publisher(Protocol):
    """Publishes ``payload`` on ``topic`` at QoS 1; returns once the broker has it."""

    async def publish(self, topic: str, payload: bytes) -> None:
        """Publish, or raise ``OSError`` when the broker cannot be reached."""
        ...


def receipt_topic(club: str, agent: str) -> str:
    """``fiscal/v1/{club}/{agent}/cmd/receipt``."""
    return f"fiscal/v1/{club}/{agent}/cmd/receipt"
