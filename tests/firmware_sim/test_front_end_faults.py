"""The web front ends' shared fault book: each front end's names, messages and JSON."""

from __future__ import annotations

import pytest

from firmware_sim.atol.faults import AtolFaults
from firmware_sim.front_end_faults import OperationFaults
from firmware_sim.smartone.faults import SmartOneFaults


def test_atol_faults_are_armed_by_task_type_as_given() -> None:
    faults = AtolFaults(answer_delay_ms=5)
    faults.arm_refusal("sell", code=3, count=2, after=True)
    faults.arm_power_cut("closeShift", after=False)
    faults.arm_paper_out("sell")
    assert faults.as_dict() == {
        "answer_delay_ms": 5,
        "power": True,
        "power_cut_on": "closeShift",
        "power_cut_after": False,
        "paper_out_on": "sell",
        "refuse": [{"on_task": "sell", "code": 3, "count": 2, "after": True}],
    }
    assert faults.take_refusal("sell", after=False) is None  # armed after, not before
    assert faults.take_refusal("sell", after=True) == 3
    assert faults.take_refusal("sell", after=True) == 3
    assert faults.take_refusal("sell", after=True) is None  # used up
    assert not faults.take_power_cut("/closeShift", after=False)  # no route names here
    assert faults.take_power_cut("closeShift", after=False)
    assert faults.take_paper_out("sell")
    assert not faults.take_paper_out("sell")


def test_smartone_faults_ignore_the_leading_slash_of_a_route() -> None:
    faults = SmartOneFaults()
    faults.arm_refusal("/sale", code=9, after=False)
    faults.arm_power_cut(" /close_shift", after=True)
    faults.arm_paper_out("/refund")
    assert faults.as_dict()["refuse"] == [
        {"on_task": "sale", "code": 9, "count": 1, "after": False}
    ]
    assert faults.as_dict()["power_cut_on"] == "close_shift"
    assert faults.as_dict()["paper_out_on"] == "refund"
    assert faults.take_refusal("sale", after=False) == 9
    assert faults.refusals == {}
    assert faults.take_power_cut("/close_shift", after=True)
    assert faults.take_paper_out("refund")


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (AtolFaults(), "code must be an ATOL error code 1..999"),
        (SmartOneFaults(), "code must be a cash box code 1..999"),
    ],
)
def test_each_front_end_names_its_own_codes(faults: OperationFaults, message: str) -> None:
    for code in (0, 1000):
        with pytest.raises(ValueError, match=message):
            faults.arm_refusal("sell", code=code, after=True)
    with pytest.raises(ValueError, match="count must be at least 1"):
        faults.arm_refusal("sell", code=1, count=0, after=True)
    assert faults.refusals == {}


def test_clear_keeps_the_power() -> None:
    faults = SmartOneFaults(answer_delay_ms=100, is_powered=False)
    faults.arm_refusal("sale", code=1, after=True)
    faults.arm_power_cut("sale", after=True)
    faults.arm_paper_out("sale")
    faults.clear()
    assert faults.as_dict() == {
        "answer_delay_ms": 0,
        "power": False,
        "power_cut_on": None,
        "power_cut_after": True,
        "paper_out_on": None,
        "refuse": [],
    }
