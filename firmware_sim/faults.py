"""Faults the simulator injects on its line: lost, corrupted and late bytes, a dead link.

Pure: the server passes every chunk it reads through :meth:`FaultPlan.filter_in` and every
chunk it writes through :meth:`FaultPlan.filter_out`; the counters run down byte by byte.
The control API (``firmware_sim.control``) and ``serve`` flags set them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

__all__ = ["CORRUPT_MASK", "Direction", "FaultPlan", "InjectedRefusal", "take_refusal"]

K = TypeVar("K")

CORRUPT_MASK = 0xFF
"""A corrupted byte is XORed with this: never equal to the original."""


class Direction(Enum):
    """Which way the bytes a fault applies to travel."""

    OUT = "out"  # device -> host (answers, ACK/NAK)
    IN = "in"  # host -> device (commands, ENQ)


@dataclass(slots=True, kw_only=True)
class InjectedRefusal:
    """Refuse the next ``count`` commands of one code with ``code``, before or after they run."""

    code: int
    count: int
    is_after: bool


def take_refusal(refusals: dict[K, InjectedRefusal], key: K, *, after: bool) -> int | None:
    """The code armed for ``key`` at this point (before or after it runs), one use of it taken.

    The refusal is forgotten with its last use; None when none is armed for this point.
    """
    armed = refusals.get(key)
    if armed is None or armed.is_after is not after:
        return None
    armed.count -= 1
    if armed.count == 0:
        del refusals[key]
    return armed.code


@dataclass(slots=True, kw_only=True)
class FaultPlan:
    """Pending faults. Mutable on purpose: counters are consumed as bytes pass."""

    drop_out: int = 0
    drop_in: int = 0
    corrupt_out: int = 0
    corrupt_in: int = 0
    answer_delay_ms: int = 0
    is_powered: bool = True
    power_cut_on: int | None = None  # cut the power when this command code arrives
    is_power_cut_after: bool = False  # after executing it (answer lost) or before (not run)
    refusals: dict[int, InjectedRefusal] = field(default_factory=dict)  # by command code

    def arm_power_cut(self, command: int, *, after: bool) -> None:
        """Cut the power when ``command`` next arrives, before or after the register runs it.

        Before: the command never runs (an open receipt is lost with the power). After: it
        runs and is stored, but its answer never leaves: the host cannot tell which happened.
        """
        if not 0 <= command <= 0xFFFF:
            raise ValueError("command must be a 1- or 2-byte command code")
        self.power_cut_on = command
        self.is_power_cut_after = after

    def disarm_power_cut(self) -> None:
        """Forget an armed cut that has not fired; refusals and byte faults stay armed."""
        self.power_cut_on = None

    def take_power_cut(self, command: int, *, after: bool) -> bool:
        """True (and disarmed) when an armed cut fires for ``command`` at this point."""
        if self.power_cut_on != command or self.is_power_cut_after is not after:
            return False
        self.power_cut_on = None
        return True

    def arm_refusal(self, command: int, *, code: int, count: int = 1, after: bool) -> None:
        """Refuse the next ``count`` ``command``s with error ``code`` (replaces an armed one).

        Before (``after`` false): the register does not run them, nothing changes. After:
        they run and what they changed is stored, but the host gets the refusal instead of
        the answer.
        """
        if not 0 <= command <= 0xFFFF:
            raise ValueError("command must be a 1- or 2-byte command code")
        if not 1 <= code <= 0xFF:
            raise ValueError("code must be an error code 1..255")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.refusals[command] = InjectedRefusal(code=code, count=count, is_after=after)

    def take_refusal(self, command: int, *, after: bool) -> int | None:
        """The error code to answer ``command`` with at this point, if one is armed (used up)."""
        return take_refusal(self.refusals, command, after=after)

    def drop(self, count: int, direction: Direction = Direction.OUT) -> None:
        """Lose the next ``count`` bytes travelling in ``direction``."""
        if count < 0:
            raise ValueError("count must not be negative")
        if direction is Direction.OUT:
            self.drop_out += count
        else:
            self.drop_in += count

    def corrupt(self, count: int, direction: Direction = Direction.OUT) -> None:
        """Flip every bit of the next ``count`` bytes travelling in ``direction``."""
        if count < 0:
            raise ValueError("count must not be negative")
        if direction is Direction.OUT:
            self.corrupt_out += count
        else:
            self.corrupt_in += count

    def clear(self) -> None:
        """Forget pending byte faults, the delay, an armed cut and refusals (power stays)."""
        self.drop_out = self.drop_in = self.corrupt_out = self.corrupt_in = 0
        self.answer_delay_ms = 0
        self.power_cut_on = None
        self.refusals.clear()

    def filter_out(self, data: bytes) -> bytes:
        """Apply pending output faults to bytes the device is about to write."""
        data, self.drop_out, self.corrupt_out = _apply(data, self.drop_out, self.corrupt_out)
        return data

    def filter_in(self, data: bytes) -> bytes:
        """Apply pending input faults to bytes the device just read."""
        data, self.drop_in, self.corrupt_in = _apply(data, self.drop_in, self.corrupt_in)
        return data

    def as_dict(self) -> dict[str, Any]:
        """The pending faults as plain JSON values."""
        return {
            "drop_out": self.drop_out,
            "drop_in": self.drop_in,
            "corrupt_out": self.corrupt_out,
            "corrupt_in": self.corrupt_in,
            "answer_delay_ms": self.answer_delay_ms,
            "power": self.is_powered,
            "power_cut_on": None if self.power_cut_on is None else f"0x{self.power_cut_on:02X}",
            "power_cut_after": self.is_power_cut_after,
            "refuse": [
                {
                    "on_command": f"0x{command:02X}",
                    "code": armed.code,
                    "count": armed.count,
                    "after": armed.is_after,
                }
                for command, armed in sorted(self.refusals.items())
            ],
        }


def _apply(data: bytes, drop: int, corrupt: int) -> tuple[bytes, int, int]:
    """Drop first, then corrupt, byte by byte; return the bytes and what is left of each."""
    dropped = min(drop, len(data))
    data = data[dropped:]
    drop -= dropped
    flipped = min(corrupt, len(data))
    if flipped:
        data = bytes(b ^ CORRUPT_MASK for b in data[:flipped]) + data[flipped:]
        corrupt -= flipped
    return data, drop, corrupt
