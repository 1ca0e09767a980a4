"""The link's reconnect policy, pure: which protocol to try next, and how long to wait.

MQTT 5 comes first. A broker that refuses it is tried at once with 3.1.1, and the protocol
that connected is kept for later reconnects (docs/design.md, "The broker"). Refusing takes
three forms: a CONNACK 0x84, "unsupported protocol version" (amqtt 0.12.1, to a bare v5
CONNECT); no CONNACK at all (the same amqtt, to a v5 CONNECT that carries properties, as ours
does with its Session Expiry Interval: it waits for bytes that never come); or a closed
connection.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum, StrEnum

__all__ = [
    "UNSUPPORTED_PROTOCOL_VERSION",
    "NextAttempt",
    "Outcome",
    "Protocol",
    "backoff_delay",
    "next_attempt",
]

UNSUPPORTED_PROTOCOL_VERSION = 0x84
"""CONNACK reason code 0x84 of MQTT 5 (§3.2.2.2); paho maps the 3.1.1 return code 1 to it."""

_MAX_DOUBLINGS = 32  # 2**32 times any backoff_min_s is past every sensible backoff_max_s


class Protocol(StrEnum):
    """The MQTT protocol version of a connection."""

    V5 = "5"
    V311 = "3.1.1"


class Outcome(Enum):
    """How one connection attempt ended."""

    CONNECTED = "connected"
    PROTOCOL_REFUSED = "protocol_refused"  # CONNACK: unsupported protocol version
    CLOSED_EARLY = "closed_early"  # the broker closed the connection before any CONNACK
    REFUSED = "refused"  # any other failing CONNACK: credentials, not authorized, busy
    NO_CONNACK = "no_connack"  # connected, CONNECT sent, no CONNACK in time
    UNREACHABLE = "unreachable"  # no TCP or TLS connection in time, or refused
    LOST = "lost"  # accepted, then lost before the subscriptions were confirmed
    ABORTED = "aborted"  # we gave up on it: the link is stopping


@dataclass(frozen=True, slots=True)
class NextAttempt:
    """The protocol of the next attempt, and whether it follows at once (no backoff)."""

    protocol: Protocol
    is_immediate: bool


def next_attempt(tried: Protocol, outcome: Outcome, *, has_v5_worked: bool = False) -> NextAttempt:
    """What to try after an attempt with ``tried`` ended with ``outcome``.

    - v5 refused, cut off or left without its CONNACK: 3.1.1 at once. Once v5 has worked
      with this broker, only an explicit refusal (0x84) does that: a hung or restarting
      broker also leaves a CONNECT unanswered, and must not talk the link down to 3.1.1.
    - 3.1.1 so: v5 again after the backoff (the broker may be restarting, or was upgraded),
      so a flaky broker cannot pin the link to 3.1.1, and one that speaks neither is not
      hammered.
    - Anything else keeps the protocol and waits for the backoff.
    """
    is_refusal = outcome in {Outcome.PROTOCOL_REFUSED, Outcome.CLOSED_EARLY, Outcome.NO_CONNACK}
    if has_v5_worked and outcome is not Outcome.PROTOCOL_REFUSED:
        is_refusal = False
    if tried is Protocol.V5 and is_refusal:
        return NextAttempt(Protocol.V311, is_immediate=True)
    if tried is Protocol.V311 and is_refusal:
        return NextAttempt(Protocol.V5, is_immediate=False)
    return NextAttempt(tried, is_immediate=False)


def backoff_delay(failures: int, *, min_s: float, max_s: float, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` failures in a row (0 after a working connection).

    Jittered exponential: uniform between ``min_s`` and ``min_s * 2**failures``, capped at
    ``max_s``; the jitter keeps a room of agents from reconnecting in step after a broker
    restart.
    """
    ceiling = min(max_s, min_s * 2 ** min(max(failures, 0), _MAX_DOUBLINGS))
    return rng.uniform(min_s, ceiling)
