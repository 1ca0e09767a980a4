"""Late payments: when a receipt printed after its payment is a correction receipt.

A receipt must be issued at the moment of settlement. When the agent prints it later (the
register was off, the paper ran out, support reissued it from the cloud), the fiscal rules'
path for a settlement made without the register is a correction receipt naming the date of
the settlement (docs/corrections.md). ``[receipts] late`` in the agent's config says when a
receipt counts as late:

- ``other_shift`` (the default): the payment was taken before the shift the receipt is
  printed in was opened (in an earlier shift, or while no shift was open), and more than
  :data:`LATE_GRACE` ago on the register's clock (a shift opened for the payment's own
  receipt, a second after the payment, does not make it late);
- ``never``: always an ordinary receipt, dated when it is printed;
- ``after:<duration>``: the register's clock is more than the duration past the payment.

Pure: the worker calls :func:`correction_for` when it prints, on the register's clock and
its open shift, and records the answer with the receipt's intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from agent.domain.receipt import Correction, CorrectionType

__all__ = [
    "DEFAULT_LATE_POLICY",
    "LATE_GRACE",
    "LateMode",
    "LatePolicy",
    "correction_for",
    "parse_late_policy",
]

LATE_GRACE: Final = timedelta(minutes=5)
"""Under ``other_shift``, a payment this recent on the register's clock is never late: the
shift it falls before may have been opened for its own receipt (or rotated by the guard a
moment ago), and the CRM's clock is not the register's."""

_DURATION: Final = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class LateMode(Enum):
    """How ``[receipts] late`` decides."""

    OTHER_SHIFT = "other_shift"
    NEVER = "never"
    AFTER = "after"


@dataclass(frozen=True, slots=True)
class LatePolicy:
    """``[receipts] late``; ``after`` is set for :attr:`LateMode.AFTER` only."""

    mode: LateMode
    after: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.mode is LateMode.AFTER) != (self.after is not None):
            msg = "after:<duration> needs its duration, and only it takes one"
            raise ValueError(msg)
        if self.after is not None and self.after <= timedelta(0):
            msg = "the duration of after:<duration> must be positive"
            raise ValueError(msg)

    def __str__(self) -> str:
        if self.after is None:
            return self.mode.value
        return f"after:{int(self.after.total_seconds())}s"


DEFAULT_LATE_POLICY: Final = LatePolicy(LateMode.OTHER_SHIFT)


def parse_late_policy(text: str) -> LatePolicy:
    """``"other_shift"``, ``"never"`` or ``"after:<duration>"`` (``2h``, ``30m``, ``1d12h``).

    Raises:
        ValueError: anything else, with the accepted forms in the message.
    """
    value = text.strip()
    for mode in (LateMode.OTHER_SHIFT, LateMode.NEVER):
        if value == mode.value:
            return LatePolicy(mode)
    prefix, _, duration = value.partition(":")
    match = _DURATION.match(duration.strip()) if prefix == LateMode.AFTER.value else None
    if match is None or not any(match.groups()):
        msg = (
            f'late must be "other_shift", "never" or "after:<duration>" (such as "after:2h"),'
            f" not {text!r}"
        )
        raise ValueError(msg)
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    after = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if after <= timedelta(0):
        msg = f"the duration of {text!r} must be positive"
        raise ValueError(msg)
    return LatePolicy(LateMode.AFTER, after)


def correction_for(
    policy: LatePolicy,
    *,
    paid_at: datetime | None,
    clock: datetime,
    shift_opened_at: datetime | None,
) -> Correction | None:
    """The correction a receipt printed now must be, or None for an ordinary receipt.

    ``clock`` is the register's clock now and ``shift_opened_at`` the time of the open
    shift's open-shift document on that clock (None when unknown: then ``other_shift``
    cannot tell, and the receipt stays ordinary). A payment without ``paid_at`` is never
    late. The correction's date is the payment's date on the register's zone (tag 1178).
    """
    if paid_at is None or policy.mode is LateMode.NEVER:
        return None
    if policy.mode is LateMode.OTHER_SHIFT:
        is_late = (
            shift_opened_at is not None
            and paid_at < shift_opened_at
            and clock - paid_at > LATE_GRACE
        )
    else:
        assert policy.after is not None
        is_late = clock - paid_at > policy.after
    if not is_late:
        return None
    zone = clock.tzinfo
    settled_on = (paid_at.astimezone(zone) if zone is not None else paid_at).date()
    return Correction(type=CorrectionType.SELF, settled_on=settled_on)
