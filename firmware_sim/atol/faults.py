"""Faults of the simulated ATOL register, by task type (the control API arms them).

Pure. A power cut or a refusal is armed on the next task of one ``type`` (``sell``,
``closeShift``, ...), before the register runs it or after it ran and was stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmware_sim.faults import InjectedRefusal

__all__ = ["AtolFaults"]

MAX_CODE = 999


@dataclass(slots=True, kw_only=True)
class AtolFaults:
    """Pending faults of the ATOL front end; counters are used up as tasks run."""

    answer_delay_ms: int = 0  # every task stays inProgress this long before it runs
    is_powered: bool = True
    power_cut_on: str | None = None
    is_power_cut_after: bool = False
    refusals: dict[str, InjectedRefusal] = field(default_factory=dict)
    paper_out_on: str | None = None  # the paper ends while this task's document prints

    def arm_paper_out(self, task_type: str) -> None:
        """The paper runs out while the next ``task_type`` document prints (after its FD)."""
        self.paper_out_on = task_type

    def take_paper_out(self, task_type: str) -> bool:
        """True (and disarmed) when the armed paper end fires for this task."""
        if self.paper_out_on != task_type:
            return False
        self.paper_out_on = None
        return True

    def arm_power_cut(self, task_type: str, *, after: bool) -> None:
        """Cut the power at the next ``task_type`` task, before or after it runs."""
        self.power_cut_on = task_type
        self.is_power_cut_after = after

    def disarm_power_cut(self) -> None:
        """Forget an armed cut that has not fired."""
        self.power_cut_on = None

    def take_power_cut(self, task_type: str, *, after: bool) -> bool:
        """True (and disarmed) when an armed cut fires for this task at this point."""
        if self.power_cut_on != task_type or self.is_power_cut_after is not after:
            return False
        self.power_cut_on = None
        return True

    def arm_refusal(self, task_type: str, *, code: int, count: int = 1, after: bool) -> None:
        """Fail the next ``count`` ``task_type`` tasks with ATOL ``code``."""
        if not 1 <= code <= MAX_CODE:
            raise ValueError("code must be an ATOL error code 1..999")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.refusals[task_type] = InjectedRefusal(code=code, count=count, is_after=after)

    def take_refusal(self, task_type: str, *, after: bool) -> int | None:
        """The code to fail this task with at this point, if one is armed (used up)."""
        armed = self.refusals.get(task_type)
        if armed is None or armed.is_after is not after:
            return None
        armed.count -= 1
        if armed.count == 0:
            del self.refusals[task_type]
        return armed.code

    def clear(self) -> None:
        """Forget the delay, an armed cut and refusals (the power stays)."""
        self.answer_delay_ms = 0
        self.power_cut_on = None
        self.paper_out_on = None
        self.refusals.clear()

    def as_dict(self) -> dict[str, Any]:
        """The pending faults as plain JSON values."""
        return {
            "answer_delay_ms": self.answer_delay_ms,
            "power": self.is_powered,
            "power_cut_on": self.power_cut_on,
            "power_cut_after": self.is_power_cut_after,
            "paper_out_on": self.paper_out_on,
            "refuse": [
                {"on_task": task, "code": armed.code, "count": armed.count, "after": armed.is_after}
                for task, armed in sorted(self.refusals.items())
            ],
        }
