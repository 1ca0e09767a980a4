"""FF38 Сформировать отчёт о состоянии расчётов: the FN's calculation-state report, pure.

::

    FF 38 | password u32                                   (system administrator)
    FF 38 | err | FD u32 | FP u32 | unconfirmed u32 | first unconfirmed YY MM DD

The FN makes a fiscal document of type 21 ("отчёт о текущем состоянии расчётов", tags 1097
count of FDs without an OFD ticket, 1098 the first one's date-time, 1116 its number) and the
register prints it. It takes the next FD number like any other document
(docs/exactly-once.md). The answer layout is pyshtrih's ``fs_calculation_state_report``
(handlers/commands.py, 0xFF38) and spec117; the date is all zeros when nothing is unsent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from agent.drivers.shtrih.wire import Command, PasswordRequest, Reader

__all__ = ["StateReportRequest", "StateReportResponse", "decode_state_report"]

_YEAR_BASE = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class StateReportRequest(PasswordRequest):
    """FF38: make and print the calculation-state report (an FN document)."""

    command: ClassVar[Command] = Command.STATE_REPORT


@dataclass(frozen=True, slots=True, kw_only=True)
class StateReportResponse:
    """FF38 answer: the report's FD and FP, the OFD backlog and its first document's date."""

    fd: int
    fp: int
    unconfirmed: int
    first_unconfirmed: date | None  # None when nothing waits for the OFD (zeros)


def decode_state_report(r: Reader) -> StateReportResponse:
    """The FF38 answer body after the error byte."""
    fd = r.uint(4, "FD")
    fp = r.uint(4, "fiscal sign")
    unconfirmed = r.uint(4, "unconfirmed count")
    raw = r.take(3, "first unconfirmed date")
    r.done()
    first: date | None
    try:
        first = date(_YEAR_BASE + raw[0], raw[1], raw[2]) if any(raw) else None
    except ValueError as exc:
        raise r.malformed(f"first unconfirmed date is not a date: {raw.hex(' ')}") from exc
    return StateReportResponse(fd=fd, fp=fp, unconfirmed=unconfirmed, first_unconfirmed=first)
