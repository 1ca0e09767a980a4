"""ShiftNumbers: the driver's receipt numbers within a shift (agent/drivers/smartone/numbering.py)."""

from __future__ import annotations

from agent.drivers.smartone.numbering import ShiftNumbers


def test_numbers_count_per_shift_and_a_repeated_request_keeps_its_number() -> None:
    numbers = ShiftNumbers(kept=2)
    assert [numbers.number(key, 5) for key in ("a", "b", "a", "c")] == [1, 2, 1, 3]
    assert numbers.number("d", 6) == 1  # a new shift counts from 1
    assert numbers.number("a", 6) == 2  # a key of another shift is a new receipt here


def test_only_the_last_kept_requests_are_remembered() -> None:
    numbers = ShiftNumbers(kept=2)
    for key in ("a", "b", "c"):
        numbers.number(key, 1)
    assert numbers.number("c", 1) == 3
    assert numbers.number("a", 1) == 4  # forgotten: counted as the next one
