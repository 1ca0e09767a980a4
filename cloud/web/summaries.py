"""The board's "current shift" column without reconciling every agent at every refresh.

Reconciling one agent's shift reads five tables: 200 agents at each refresh would take
seconds. :class:`ShiftSummaries` keeps each agent's last summary and, per request, brings the
stalest ones up to date for at most ``budget_s`` (never computed first, then the oldest), at
least one; the rest show their last summary, and an agent never summarized yet shows "…"
until its turn. With few agents every refresh recomputes them all.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from cloud.web.board import PENDING, ShiftSummary

__all__ = ["AgentKey", "ShiftSummaries", "stalest_first"]

AgentKey = tuple[str, str]

Compute = Callable[[AgentKey], Awaitable[ShiftSummary | None]]
Clock = Callable[[], float]


def stalest_first(keys: Iterable[AgentKey], computed_at: dict[AgentKey, float]) -> list[AgentKey]:
    """``keys`` in the order to recompute: never computed first, then the oldest."""
    return sorted(keys, key=lambda key: (key in computed_at, computed_at.get(key, 0.0), key))


@dataclass
class ShiftSummaries:
    """The agents' current-shift summaries, refreshed within a time budget per request."""

    budget_s: float = 0.3
    clock: Clock = time.monotonic
    _summaries: dict[AgentKey, ShiftSummary | None] = field(default_factory=dict)
    _computed_at: dict[AgentKey, float] = field(default_factory=dict)

    async def get(
        self, keys: list[AgentKey], compute: Compute
    ) -> dict[AgentKey, ShiftSummary | Literal["pending"] | None]:
        """Each agent's summary (None: no shift yet; :data:`PENDING`: not computed yet)."""
        started = self.clock()
        for index, key in enumerate(stalest_first(keys, self._computed_at)):
            if index > 0 and self.clock() - started >= self.budget_s:
                break
            self._summaries[key] = await compute(key)
            self._computed_at[key] = self.clock()
        return {key: self._summaries.get(key, PENDING) for key in keys}
