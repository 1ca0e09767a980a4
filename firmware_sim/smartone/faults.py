"""Faults of the simulated SmartOne cash box, by route (the control API arms them).

Pure. A power cut or a refusal is armed on the next request of one route (``sale``,
``close_shift``, ...; a leading ``/`` is ignored), before the cash box runs it or after it ran
and was stored. ``answer_delay_ms`` is the processing time of ``/sale`` and ``/refund``: the
document stays "processing" (code 44) that long. A paper end armed on a route makes that
route's next document go unprinted (code 15, committed). The book is the shared
:class:`~firmware_sim.front_end_faults.OperationFaults`; an operation here is a route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from firmware_sim.front_end_faults import OperationFaults

__all__ = ["SmartOneFaults", "route_name"]


def route_name(route: str) -> str:
    """``/sale`` and ``sale`` name the same route."""
    return route.strip().lstrip("/")


@dataclass(slots=True, kw_only=True)
class SmartOneFaults(OperationFaults):
    """Pending faults of the SmartOne front end; counters are used up as requests run."""

    code_kind: ClassVar[str] = "a cash box code"

    def operation_name(self, operation: str) -> str:
        """A route's name without its leading ``/``."""
        return route_name(operation)
