"""Faults of the simulated SmartOne cash box, by route (the control API arms them).

Pure. A power cut or a refusal is armed on the next request of one route (``sale``,
``close_shift``, ...; a leading ``/`` is ignored), before the cash box runs it or after it ran
and was stored. ``answer_delay_ms`` is the processing time of ``/sale`` and ``/refund``: the
document stays "processing" (code 44) that long. A paper end armed on a route makes that
route's next document go unprinted (code 15, committed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmware_sim.faults import InjectedRefusal

__all__ = ["SmartOneFaults", "route_name"]

MAX_CODE = 999


def route_name(route: str) -> str:
    """``/sale`` and ``sale`` name the same route."""
    return route.strip().lstrip("/")


@dataclass(slots=True, kw_only=True)
class SmartOneFaults:
    """Pending faults of the SmartOne front end; counters are used up as requests run."""

    answer_delay_ms: int = 0  # processing time of /sale and /refund (code 44 meanwhile)
    is_powered: bool = True
    power_cut_on: str | None = None
    is_power_cut_after: bool = False
    refusals: dict[str, InjectedRefusal] = field(default_factory=dict)
    paper_out_on: str | None = None

    def arm_paper_out(self, route: str) -> None:
        """The paper runs out while the next ``route`` document prints (it is committed)."""
        self.paper_out_on = route_name(route)

    def take_paper_out(self, route: str) -> bool:
        """True (and disarmed) when the armed paper end fires for this route."""
        if self.paper_out_on != route_name(route):
            return False
        self.paper_out_on = None
        return True

    def arm_power_cut(self, route: str, *, after: bool) -> None:
        """Cut the power at the next ``route`` request, before or after it runs."""
        self.power_cut_on = route_name(route)
        self.is_power_cut_after = after

    def disarm_power_cut(self) -> None:
        """Forget an armed cut that has not fired."""
        self.power_cut_on = None

    def take_power_cut(self, route: str, *, after: bool) -> bool:
        """True (and disarmed) when an armed cut fires for this route at this point."""
        if self.power_cut_on != route_name(route) or self.is_power_cut_after is not after:
            return False
        self.power_cut_on = None
        return True

    def arm_refusal(self, route: str, *, code: int, count: int = 1, after: bool) -> None:
        """Answer the next ``count`` ``route`` requests with ``code``."""
        if not 1 <= code <= MAX_CODE:
            raise ValueError("code must be a cash box code 1..999")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.refusals[route_name(route)] = InjectedRefusal(code=code, count=count, is_after=after)

    def take_refusal(self, route: str, *, after: bool) -> int | None:
        """The code to answer this request with at this point, if one is armed (used up)."""
        name = route_name(route)
        armed = self.refusals.get(name)
        if armed is None or armed.is_after is not after:
            return None
        armed.count -= 1
        if armed.count == 0:
            del self.refusals[name]
        return armed.code

    def clear(self) -> None:
        """Forget the delay, an armed cut, a paper end and refusals (the power stays)."""
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
                {
                    "on_task": route,
                    "code": armed.code,
                    "count": armed.count,
                    "after": armed.is_after,
                }
                for route, armed in sorted(self.refusals.items())
            ],
        }
