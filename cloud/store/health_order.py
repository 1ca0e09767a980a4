"""Which of two healths of one agent is newer (docs/contract.md, Health: order is (boot, seq)).

A health carries ``(boot, seq)``. The agent's last will carries ``boot`` alone: it is newer than
every health of its boot seen before it and older than any health of a later boot, or of the
same boot with a higher seq. So a will takes the seq of the newest health of its boot already
stored (or -1 when none is) and ranks just above it: its key is ``(boot, that_seq, 1)``, a
health's is ``(boot, seq, 0)``, and keys compare as tuples.

An agent older than v1.1 sends neither boot nor seq: its healths have no order but arrival, so
each one (and its will) replaces what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OrderKey", "incoming_key", "is_newer"]

NO_SEQ = -1


@dataclass(frozen=True, slots=True)
class OrderKey:
    """Where a stored or incoming health stands; ``boot`` None: a pre-v1.1 agent, no order."""

    boot: int | None
    seq: int
    will: bool

    def as_tuple(self) -> tuple[int, int, int]:
        """``(boot, seq, will)``; only meaningful when boot is known."""
        assert self.boot is not None
        return (self.boot, self.seq, int(self.will))


def incoming_key(boot: int | None, seq: int | None, stored: OrderKey | None) -> OrderKey:
    """The key of an incoming health (``seq`` given) or will (``seq`` None)."""
    if seq is not None:
        return OrderKey(boot=boot, seq=seq, will=False)
    same_boot = stored is not None and boot is not None and stored.boot == boot
    return OrderKey(boot=boot, seq=stored.seq if same_boot and stored else NO_SEQ, will=True)


def is_newer(incoming: OrderKey, stored: OrderKey | None) -> bool:
    """Whether ``incoming`` replaces ``stored``; equal keys are a redelivery and replace nothing."""
    if stored is None or incoming.boot is None or stored.boot is None:
        return True
    return incoming.as_tuple() > stored.as_tuple()
