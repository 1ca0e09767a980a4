"""Shift reports: what the agent tells the cloud at every open, X and Z."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from agent.domain.money import Kopecks
from agent.drivers.interface import ShiftCounters

__all__ = ["ReportKind", "ShiftChange", "ShiftChangeSource", "ShiftReportData"]


class ReportKind(Enum):
    """The event a shift report records."""

    OPEN = "open"
    X = "x"
    Z = "z"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftChange:
    """The change given back in one shift's receipts, by calculation sign, in kopecks.

    A Shtrih-M register keeps no shift register of change (its cash registers 193 and 195
    are net of it, and the FN does not store change either: docs/contract.md, ShiftReport),
    so this is the change of the receipts the agent itself issued in the shift, as the
    register answered each close (FF45). A receipt printed past the agent counts as given
    without change.
    """

    sales: Kopecks = Kopecks(0)
    refunds: Kopecks = Kopecks(0)


ShiftChangeSource = Callable[[str, int], ShiftChange]
"""Where the service asks for a shift's change: ``(fn serial, shift number) -> ShiftChange``.
It may block (the service runs it in a thread): the composition root wires the outbox's
``shift_change``."""


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
    change: ShiftChange | None = None  # None: the agent could not tell (no source, or it failed)
