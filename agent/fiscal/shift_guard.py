"""The 24-hour shift guard as a pure decision: what to do with the shift before a receipt.

The law and the FN count 24 hours from the open-shift document, on the register's own clock
(docs/fiscal-law-notes.md §3: no midnight rule). The guard closes the shift with a Z report
and opens a new one before ``max_age``, or at a configured quiet hour, and never lets a
receipt start so close to 24 hours that it could cross the limit. A register already locked by
an expired shift is recovered with Z, open. Everything here is pure: the service feeds it the
register's facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from agent.drivers.interface import ShiftState

__all__ = [
    "HARD_LIMIT",
    "RECEIPT_MARGIN",
    "GuardAction",
    "ShiftPolicy",
    "decide",
]

HARD_LIMIT = timedelta(hours=24)
"""The FN refuses documents in a shift older than this (FN error 0x16, register mode 3)."""
RECEIPT_MARGIN = timedelta(minutes=15)
"""By default no receipt starts closer than this to the hard limit, whatever ``max_age`` says."""
QUIET_HOUR_MIN_AGE = timedelta(hours=1)
"""A shift younger than this is not closed at the quiet hour (it was just opened)."""


class GuardAction(Enum):
    """What the shift needs before the next receipt."""

    NONE = "none"  # the shift is open and young enough
    OPEN = "open"  # no shift: open one
    ROTATE = "rotate"  # close with Z (auto) and open a new one: age or quiet hour
    RECOVER = "recover"  # the register is locked by an expired shift: Z, then open


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftPolicy:
    """When the guard rotates the shift."""

    max_age: timedelta = timedelta(hours=23, minutes=30)
    quiet_hour: time | None = None  # register clock
    margin: timedelta = RECEIPT_MARGIN  # the least distance from 24 h at which a receipt starts

    def __post_init__(self) -> None:
        if not timedelta(0) < self.max_age <= HARD_LIMIT:
            msg = f"max_age must be within (0, 24h], got {self.max_age}"
            raise ValueError(msg)
        if not timedelta(0) <= self.margin < HARD_LIMIT:
            msg = f"margin must be within [0, 24h), got {self.margin}"
            raise ValueError(msg)

    @property
    def rotate_at(self) -> timedelta:
        """The shift age at which the guard closes it before a receipt."""
        return min(self.max_age, HARD_LIMIT - self.margin)


def decide(
    *,
    shift: ShiftState,
    opened_at: datetime | None,
    clock: datetime,
    policy: ShiftPolicy,
) -> GuardAction:
    """Decide what the shift needs, from the register's state and its clock.

    ``opened_at`` is the open-shift document's time (register clock) or None when it could
    not be found; then only the register's own 24-hour lock (``EXPIRED``) triggers a Z.
    """
    if shift is ShiftState.EXPIRED:
        return GuardAction.RECOVER
    if shift is ShiftState.CLOSED:
        return GuardAction.OPEN
    if opened_at is None:
        return GuardAction.NONE
    age = clock - opened_at
    if age >= policy.rotate_at:
        return GuardAction.ROTATE
    if policy.quiet_hour is not None and age >= QUIET_HOUR_MIN_AGE:
        last_quiet = _last_occurrence(policy.quiet_hour, clock)
        if opened_at < last_quiet <= clock:
            return GuardAction.ROTATE
    return GuardAction.NONE


def _last_occurrence(at: time, clock: datetime) -> datetime:
    """The latest moment at or before ``clock`` whose wall time is ``at``."""
    candidate = clock.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate > clock:
        candidate -= timedelta(days=1)
    return candidate
