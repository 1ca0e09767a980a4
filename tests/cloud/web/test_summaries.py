"""The board's current-shift column is refreshed within a time budget (cloud/web/summaries.py)."""

from __future__ import annotations

from cloud.web.board import PENDING, ShiftSummary
from cloud.web.summaries import ShiftSummaries, stalest_first

A, B, C = ("club-1", "a"), ("club-1", "b"), ("club-2", "c")


class Ticks:
    """A clock that moves one second at every reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_never_computed_come_first_then_the_oldest() -> None:
    assert stalest_first([A, B, C], {A: 5.0, C: 2.0}) == [B, C, A]


async def test_each_request_brings_the_stalest_up_to_date_within_its_budget() -> None:
    computed: list[tuple[str, str]] = []

    async def compute(key: tuple[str, str]) -> ShiftSummary | None:
        computed.append(key)
        return None if key == C else ShiftSummary(number=len(computed), rows_differ=0, difference=0)

    # Every reading of the clock takes a second (two readings per agent): 2.5 s is two agents.
    summaries = ShiftSummaries(budget_s=2.5, clock=Ticks())
    first = await summaries.get([A, B, C], compute)
    assert computed == [A, B]
    assert first[C] == PENDING
    assert isinstance(first[A], ShiftSummary)
    second = await summaries.get([A, B, C], compute)
    assert computed == [A, B, C, A]
    assert second[C] is None  # computed: no shift yet
    # A zero budget still computes one agent per request, so every agent gets its turn.
    tight = ShiftSummaries(budget_s=0.0, clock=Ticks())
    computed.clear()
    for _ in range(3):
        await tight.get([A, B, C], compute)
    assert computed == [A, B, C]
