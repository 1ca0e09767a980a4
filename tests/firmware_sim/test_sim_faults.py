"""FaultPlan: byte counters that drop or corrupt the next N bytes, each way."""

from __future__ import annotations

import pytest

from firmware_sim.faults import CORRUPT_MASK, Direction, FaultPlan


def test_faults_drop_spans_writes() -> None:
    """Dropping 3 bytes eats 2 from the first write and 1 from the next."""
    plan = FaultPlan()
    plan.drop(3)
    assert plan.filter_out(b"\x06\x02") == b""
    assert plan.filter_out(b"\x03\x10\x00") == b"\x10\x00"
    assert plan.filter_out(b"\x06") == b"\x06"


def test_faults_corrupt_flips_every_bit_of_next_bytes() -> None:
    """Corrupted bytes are XORed with 0xFF, so never equal to the original."""
    plan = FaultPlan()
    plan.corrupt(2)
    assert plan.filter_out(b"\x06\x02\x05") == bytes(
        [0x06 ^ CORRUPT_MASK, 0x02 ^ CORRUPT_MASK, 0x05]
    )
    assert plan.corrupt_out == 0


def test_faults_directions_are_independent() -> None:
    """Input faults do not touch output and vice versa."""
    plan = FaultPlan()
    plan.drop(1, Direction.IN)
    assert plan.filter_out(b"\x15") == b"\x15"
    assert plan.filter_in(b"\x05\x05") == b"\x05"


def test_faults_drop_then_corrupt_in_one_chunk() -> None:
    """With both pending, the dropped bytes come first, then the corrupted ones."""
    plan = FaultPlan()
    plan.drop(1)
    plan.corrupt(1)
    assert plan.filter_out(b"\x01\x02\x03") == bytes([0x02 ^ CORRUPT_MASK, 0x03])


def test_faults_clear_keeps_power_state() -> None:
    """clear() forgets byte faults, the delay and armed refusals but not a power cut."""
    plan = FaultPlan(answer_delay_ms=100, is_powered=False)
    plan.drop(5)
    plan.arm_refusal(0xFF45, code=0x45, after=False)
    plan.clear()
    assert plan.as_dict() == {
        "drop_out": 0,
        "drop_in": 0,
        "corrupt_out": 0,
        "corrupt_in": 0,
        "answer_delay_ms": 0,
        "power": False,
        "power_cut_on": None,
        "power_cut_after": False,
        "refuse": [],
    }


def test_faults_negative_count_is_a_programmer_error() -> None:
    """A negative count is refused."""
    with pytest.raises(ValueError, match="negative"):
        FaultPlan().drop(-1)


def test_faults_armed_power_cut_fires_once_at_its_command_and_moment() -> None:
    """An armed cut fires for its command at the chosen moment only, then disarms."""
    plan = FaultPlan()
    plan.arm_power_cut(0xFF45, after=True)
    assert not plan.take_power_cut(0xFF46, after=True)
    assert not plan.take_power_cut(0xFF45, after=False)
    assert plan.as_dict()["power_cut_on"] == "0xFF45"
    assert plan.take_power_cut(0xFF45, after=True)
    assert not plan.take_power_cut(0xFF45, after=True)
    assert plan.as_dict()["power_cut_on"] is None


def test_faults_armed_power_cut_refuses_an_impossible_code() -> None:
    """A command code wider than two bytes is a programmer error."""
    with pytest.raises(ValueError, match="command"):
        FaultPlan().arm_power_cut(0x1_0000, after=False)


def test_faults_armed_refusal_fires_count_times_at_its_moment() -> None:
    """An armed refusal answers its command ``count`` times at its moment only, then disarms."""
    plan = FaultPlan()
    plan.arm_refusal(0xFF45, code=0x45, count=2, after=True)
    assert plan.take_refusal(0xFF46, after=True) is None
    assert plan.take_refusal(0xFF45, after=False) is None
    assert plan.as_dict()["refuse"] == [
        {"on_command": "0xFF45", "code": 0x45, "count": 2, "after": True}
    ]
    assert plan.take_refusal(0xFF45, after=True) == 0x45
    assert plan.take_refusal(0xFF45, after=True) == 0x45
    assert plan.take_refusal(0xFF45, after=True) is None
    assert plan.as_dict()["refuse"] == []


@pytest.mark.parametrize(
    ("command", "code", "count"),
    [(0x1_0000, 0x45, 1), (0xFF45, 0, 1), (0xFF45, 0x100, 1), (0xFF45, 0x45, 0)],
)
def test_faults_armed_refusal_rejects_impossible_values(
    command: int, code: int, count: int
) -> None:
    """A wide command code, an error code outside 1..255 or a zero count is a programmer error."""
    with pytest.raises(ValueError, match="must"):
        FaultPlan().arm_refusal(command, code=code, count=count, after=False)
