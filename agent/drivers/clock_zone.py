"""The register's time zone: configured, or measured from its clock against the host's.

A register keeps local wall time with no zone (Shtrih-M 0x11, FF0A, tag 1012). The agent
publishes aware times, so it must know the register's UTC offset. A configured zone
(``[register] tz = "Europe/Moscow"``) says it; ``tz = "auto"`` measures it at connect: the
register's wall clock minus the host's UTC clock, rounded to a quarter hour (every zone in
use is a whole number of quarter hours from UTC, and a register clock a few minutes off
still rounds to its zone). Both clocks must be roughly right for that: the host keeps UTC
by NTP, the FN refuses documents whose time is more than 5 minutes off
(docs/fiscal-law-notes.md §3). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import Enum
from typing import Final

__all__ = [
    "QUARTER_HOUR",
    "ZONE_RANGE",
    "ClockZone",
    "ZoneSource",
    "format_utc_offset",
    "measure_utc_offset",
    "settle_zone",
]

QUARTER_HOUR: Final = timedelta(minutes=15)
"""The measured offset is rounded to this; a configured zone this far off the measured one
is reported (health ``register.error`` ``tz_mismatch``)."""
ZONE_RANGE: Final = (timedelta(hours=-12), timedelta(hours=14))
"""UTC offsets of the zones in use (Baker Island to Kiribati's Line Islands), both included.
A measured offset outside them is a wrong clock, not a zone."""


class ZoneSource(Enum):
    """Where the zone in use comes from."""

    AUTO = "auto"  # measured at connect
    CONFIGURED = "configured"  # [register] tz names it


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockZone:
    """How the register's wall clock is read as aware times, settled at connect.

    ``zone`` is the zone in use: the configured one, or a fixed offset of ``measured``
    (the host's offset when the measurement is no zone's, :attr:`is_fallback`).
    ``utc_offset`` is its offset at the register's time of the measurement. ``measured``
    is the register's wall clock minus the host's UTC clock then, rounded to a quarter hour.
    """

    source: ZoneSource
    zone: tzinfo
    utc_offset: timedelta
    measured: timedelta

    @property
    def is_fallback(self) -> bool:
        """Auto measured no zone's offset (see :func:`settle_zone`): the host's is in use."""
        return self.source is ZoneSource.AUTO and self.utc_offset != self.measured

    @property
    def is_mismatch(self) -> bool:
        """A configured zone a quarter hour or more away from the measured offset."""
        return (
            self.source is ZoneSource.CONFIGURED
            and abs(self.utc_offset - self.measured) >= QUARTER_HOUR
        )


def measure_utc_offset(register_wall: datetime, host_now: datetime) -> timedelta:
    """The register's wall clock minus the host's UTC clock, rounded to a quarter hour.

    ``register_wall`` is naive (the register's local time); ``host_now`` is aware. A tie
    (exactly 7.5 minutes past a quarter) rounds up, towards the later quarter.
    """
    if register_wall.tzinfo is not None:
        msg = "register_wall must be the register's naive wall time"
        raise ValueError(msg)
    if host_now.tzinfo is None:
        msg = "host_now must be an aware datetime"
        raise ValueError(msg)
    exact = register_wall - host_now.astimezone(UTC).replace(tzinfo=None)
    quarters = (exact + QUARTER_HOUR / 2) // QUARTER_HOUR
    return QUARTER_HOUR * quarters


def settle_zone(
    configured: tzinfo | None, register_wall: datetime, host_now: datetime
) -> ClockZone:
    """The zone to use: ``configured`` when given, else the measured offset as a fixed zone.

    A measured offset outside :data:`ZONE_RANGE` (a register clock hours or days wrong) is
    no zone: "auto" then falls back to the host's own offset, so the register's clock shows
    as skewed in health rather than being taken for a zone.
    """
    measured = measure_utc_offset(register_wall, host_now)
    if configured is None:
        low, high = ZONE_RANGE
        offset = measured if low <= measured <= high else _host_offset(host_now)
        return ClockZone(
            source=ZoneSource.AUTO,
            zone=_fixed_zone(offset),
            utc_offset=offset,
            measured=measured,
        )
    configured_offset = configured.utcoffset(register_wall)
    if configured_offset is None:
        msg = f"the configured zone {configured!r} gives no UTC offset"
        raise ValueError(msg)
    return ClockZone(
        source=ZoneSource.CONFIGURED,
        zone=configured,
        utc_offset=configured_offset,
        measured=measured,
    )


def _fixed_zone(offset: timedelta) -> tzinfo:
    """A fixed zone of ``offset``; UTC itself for a zero offset."""
    return timezone(offset) if offset else UTC


def _host_offset(host_now: datetime) -> timedelta:
    offset = host_now.astimezone().utcoffset()
    return offset if offset is not None else timedelta(0)


def format_utc_offset(offset: timedelta) -> str:
    """``+05:45``, ``-03:30``, ``+00:00``: as ISO 8601 writes an offset."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
