"""The receipt numbers a SmartOne driver gives within a shift. Pure, in memory.

The cashbox reports no per-shift receipt number (docs/smartone-driver.md §3): the driver
counts the receipts it issued in the shift since it started, and a request the cashbox
answers again (its stored document, same ``documentExtID``) keeps the number it got.
"""

from __future__ import annotations

__all__ = ["ShiftNumbers"]


class ShiftNumbers:
    """The current shift's count and the numbers of the last ``kept`` requests."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._count: dict[int, int] = {}  # shift -> receipts numbered in it
        self._numbered: dict[str, tuple[int, int]] = {}  # key -> (shift, number)

    def number(self, key: str, shift: int) -> int:
        """The receipt's number in ``shift``: the one request ``key`` has, or the next one."""
        known = self._numbered.pop(key, None)
        if known is not None and known[0] == shift:
            number = known[1]
        else:
            number = self._count.get(shift, 0) + 1
            self._count = {shift: number}
        self._numbered[key] = (shift, number)
        while len(self._numbered) > self._kept:
            del self._numbered[next(iter(self._numbered))]
        return number
