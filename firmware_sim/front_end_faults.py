"""The fault book of a web front end (ATOL, SmartOne), by operation (the control API arms it).

Pure. A power cut or a refusal is armed on the next request of one operation (an ATOL task
type such as ``sell``, a SmartOne route such as ``sale``), before the register runs it or
after it ran and was stored; a paper end armed on an operation fires while that operation's
next document prints. Each front end subclasses :class:`OperationFaults` for its own way of
naming an operation (:meth:`OperationFaults.operation_name`) and its own refusal message; the
book itself, and the JSON the control API shows (:meth:`OperationFaults.as_dict`), are the
same for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from firmware_sim.faults import InjectedRefusal, take_refusal

__all__ = ["OperationFaults"]


@dataclass(slots=True, kw_only=True)
class OperationFaults:
    """Pending faults of one web front end; counters are used up as operations run."""

    max_code: ClassVar[int] = 999
    code_kind: ClassVar[str] = "an error code"  # "code must be <code_kind> 1..<max_code>"

    answer_delay_ms: int = 0  # how long a request stays in progress before it runs
    is_powered: bool = True
    power_cut_on: str | None = None
    is_power_cut_after: bool = False
    refusals: dict[str, InjectedRefusal] = field(default_factory=dict)
    paper_out_on: str | None = None  # the paper ends while this operation's document prints

    def operation_name(self, operation: str) -> str:
        """The key an operation is armed under (as given here; a front end may normalise)."""
        return operation

    def arm_paper_out(self, operation: str) -> None:
        """The paper runs out while the next ``operation`` document prints."""
        self.paper_out_on = self.operation_name(operation)

    def take_paper_out(self, operation: str) -> bool:
        """True (and disarmed) when the armed paper end fires for this operation."""
        if self.paper_out_on != self.operation_name(operation):
            return False
        self.paper_out_on = None
        return True

    def arm_power_cut(self, operation: str, *, after: bool) -> None:
        """Cut the power at the next ``operation`` request, before or after it runs."""
        self.power_cut_on = self.operation_name(operation)
        self.is_power_cut_after = after

    def disarm_power_cut(self) -> None:
        """Forget an armed cut that has not fired."""
        self.power_cut_on = None

    def take_power_cut(self, operation: str, *, after: bool) -> bool:
        """True (and disarmed) when an armed cut fires for this operation at this point."""
        if self.power_cut_on != self.operation_name(operation):
            return False
        if self.is_power_cut_after is not after:
            return False
        self.power_cut_on = None
        return True

    def arm_refusal(self, operation: str, *, code: int, count: int = 1, after: bool) -> None:
        """Fail the next ``count`` ``operation`` requests with ``code``."""
        if not 1 <= code <= self.max_code:
            raise ValueError(f"code must be {self.code_kind} 1..{self.max_code}")
        if count < 1:
            raise ValueError("count must be at least 1")
        refusal = InjectedRefusal(code=code, count=count, is_after=after)
        self.refusals[self.operation_name(operation)] = refusal

    def take_refusal(self, operation: str, *, after: bool) -> int | None:
        """The code to fail this request with at this point, if one is armed (used up)."""
        return take_refusal(self.refusals, self.operation_name(operation), after=after)

    def clear(self) -> None:
        """Forget the delay, an armed cut, a paper end and refusals (the power stays)."""
        self.answer_delay_ms = 0
        self.power_cut_on = None
        self.paper_out_on = None
        self.refusals.clear()

    def as_dict(self) -> dict[str, Any]:
        """The pending faults as plain JSON values (``on_task`` names the operation)."""
        return {
            "answer_delay_ms": self.answer_delay_ms,
            "power": self.is_powered,
            "power_cut_on": self.power_cut_on,
            "power_cut_after": self.is_power_cut_after,
            "paper_out_on": self.paper_out_on,
            "refuse": [
                {"on_task": name, "code": armed.code, "count": armed.count, "after": armed.is_after}
                for name, armed in sorted(self.refusals.items())
            ],
        }
