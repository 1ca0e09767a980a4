"""The topics the cloud's ingest reads: their filters, and a topic parsed into who and what.

All topics are under ``fiscal/v1/{club}/{agent}/`` (README, "On MQTT"). The ingest reads the
agent's events (``evt/...``), its ``health`` (with the last will) and the CRM's
``cmd/receipt`` (kept with its payload, so a receipt can be issued again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "PREFIX",
    "SHARE_GROUP",
    "Kind",
    "Source",
    "filters",
    "parse_topic",
]

PREFIX: Final = "fiscal/v1"
SHARE_GROUP: Final = "fiscal-cloud"
"""The shared-subscription group: MQTT 5 brokers split its messages among the instances."""

_FILTERS: Final = (
    f"{PREFIX}/+/+/evt/#",
    f"{PREFIX}/+/+/health",
    f"{PREFIX}/+/+/cmd/receipt",
)


class Kind(StrEnum):
    """What a message is; the value is the topic's tail after ``{club}/{agent}/``."""

    REQUEST = "cmd/receipt"
    RESULT = "evt/receipt"
    DOCUMENT = "evt/document"
    SHIFT = "evt/shift"
    COMMAND = "evt/command"
    REJECTED = "evt/rejected"
    HEALTH = "health"


_BY_TAIL: Final = {kind.value: kind for kind in Kind}


@dataclass(frozen=True, slots=True)
class Source:
    """Who sent a message and what it is: ``fiscal/v1/{club}/{agent}/{kind}``."""

    club: str
    agent: str
    kind: Kind


def filters(*, shared: bool) -> tuple[str, ...]:
    """The subscriptions: ``$share/fiscal-cloud/...`` when ``shared`` (MQTT 5), else plain."""
    if shared:
        return tuple(f"$share/{SHARE_GROUP}/{topic}" for topic in _FILTERS)
    return _FILTERS


def parse_topic(topic: str) -> Source | None:
    """``fiscal/v1/{club}/{agent}/{kind}`` as a Source; None for a topic that is not ours.

    A Source is immutable, so each topic's is kept and given again: the same few thousand
    topics come back with every message (at most ``_KNOWN_MAX`` kept, then started afresh).
    """
    known = _KNOWN.get(topic)
    if known is not None:
        return known
    source = _parse_topic(topic)
    if source is not None:
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[topic] = source
    return source


_KNOWN: Final[dict[str, Source]] = {}
_KNOWN_MAX: Final = 100_000


def _parse_topic(topic: str) -> Source | None:
    parts = topic.split("/")
    if len(parts) < 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        return None
    club, agent = parts[2], parts[3]
    kind = _BY_TAIL.get("/".join(parts[4:]))
    if not club or not agent or kind is None:
        return None
    return Source(club, agent, kind)
