"""A message the broker delivered to the link."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Incoming"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """One PUBLISH from the broker, not yet acknowledged (the link acks only on ``ack()``).

    ``connection`` numbers the connection it came on (each attempt gets a new number): an
    acknowledgement is sent only on that connection, since a packet id means nothing on
    another. ``duplicate`` is the DUP flag: the broker sent it before, unacknowledged.
    """

    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    duplicate: bool
    connection: int
