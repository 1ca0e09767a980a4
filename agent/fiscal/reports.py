"""Shift reports: what the agent tells the cloud at every open, X and Z."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from agent.drivers.interface import ShiftCounters

__all__ = ["ReportKind", "ShiftReportData"]


class ReportKind(Enum):
    """The event a shift report records."""

    OPEN = "open"
    X = "x"
    Z = "z"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftReportData:
    """A shift's counters at an open, X or Z, as read from the register."""

    kind: ReportKind
    at: datetime  # the register's clock when the report was made
    shift: int
    fn: str
    opened_at: datetime | None
    closed_at: datetime | None
    counters: ShiftCounters
    first_fd: int | None  # the open-shift document
    last_fd: int  # the FN's last FD when the report was made (the close-shift FD for a Z)
    auto: bool  # the agent's 24-hour guard did it, not a person
