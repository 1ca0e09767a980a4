"""VAT through the whole agent: the register's setup checked, every sum equal to the kopeck.

Over the real driver and the simulator's device, in one process: a register in tax mode 1 or
with a tax row holding another rate holds every receipt (health says why) and prints them once
put right; and over random receipts, VAT per rate is the same on the FN tape, in the register's
tax registers, in the Z report, in the agent's ShiftReport and in the agent's own recomputation
from the lines (agent/domain/vat.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent.domain.money import Kopecks
from agent.intake.report_mapping import shift_report_to_contract
from agent.outbox.states import RowState
from firmware_sim.device import Device
from firmware_sim.state import tape_entry
from tests.support.agent_rig import FAST_WORKER, AgentRig, agent_rig, until
from tests.support.payloads import line_kopecks, money

pytestmark = pytest.mark.timeout(120)

SYSADMIN_PASSWORD = 30
WRITE_TABLE = 0x1E


def _set_vat22_row_rate(device: Device, hundredths: int) -> None:
    """0x1E on the device: table 6, row 1 (vat22), field 1 (the rate), as a technician would."""
    payload = (
        bytes([WRITE_TABLE])
        + SYSADMIN_PASSWORD.to_bytes(4, "little")
        + bytes([6])
        + (1).to_bytes(2, "little")
        + bytes([1])
        + hundredths.to_bytes(2, "little")
    )
    answer = device.handle(payload, datetime.now(UTC))
    assert answer[1] == 0, answer.hex(" ")


def _tape(device: Device) -> list[dict[str, Any]]:
    return [tape_entry(doc) for doc in device.state.documents]


def _state(rig: AgentRig, request_id: str) -> RowState | None:
    row = rig.outbox.get(request_id)
    return None if row is None else row.state


def _coffee(request_id: str) -> dict[str, Any]:
    item = {"name": "Кофе", "qty": "1", "price": "150.00", "vat": "vat22"}
    return {
        "id": request_id,
        "kind": "sale",
        "category": "goods",
        "items": [item],
        "payments": {"cash": "150.00"},
    }


@pytest.mark.parametrize("fault", ["tax-mode-1", "row-holds-20"])
async def test_vat_setup_wrong_holds_every_receipt_until_put_right(
    tmp_path: Path, fault: str
) -> None:
    """Tax mode 1 or vat22's row at 20 %: nothing prints, health names it; fixed, all print."""
    async with agent_rig(tmp_path) as rig:
        device = rig.register.device
        if fault == "tax-mode-1":
            device.set_tax_mode(1)
        else:
            _set_vat22_row_rate(device, 2000)
        task = asyncio.create_task(rig.worker.run(), name="worker")
        try:
            response = await rig.client.post("/api/v1/receipts", json=_coffee("coffee-1"))
            assert response.status == 202
            condition = await until(lambda: rig.worker.condition)
            assert condition.code == "tax_setup_mismatch"
            expected = "compute VAT itself" if fault == "tax-mode-1" else "vat22: tax row 1"
            assert expected in condition.message
            await asyncio.sleep(0.3)
            assert _state(rig, "coffee-1") is RowState.PENDING
            assert [d.type.value for d in device.state.documents] == ["registration"]
            if fault == "tax-mode-1":
                device.set_tax_mode(0)
            else:
                _set_vat22_row_rate(device, 2200)
            await until(lambda: _state(rig, "coffee-1") is RowState.DONE)
            await until(lambda: rig.worker.condition is None)  # cleared after the attempt
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        (receipt,) = [e for e in _tape(device) if e["type"] == "receipt"]
        assert receipt["vat"] == {"vat22": "27.05"}


RATES = ["vat22", "vat10", "vat5", "vat7", "vat0", "none"]
ADVANCE_RATES = ["vat22_122", "vat10_110", "vat5_105", "vat7_107", "none"]

line = st.fixed_dictionaries(
    {
        "price": st.integers(min_value=1, max_value=500_000).map(money),
        "qty": st.sampled_from(["1", "2", "0.5", "0.333", "1.25", "3"]),
    }
)


@st.composite
def receipts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A shift's worth of club receipts: goods and top-ups, sales and refunds, any payment."""
    bodies: list[dict[str, Any]] = []
    for n in range(draw(st.integers(min_value=1, max_value=6))):
        category = draw(st.sampled_from(["goods", "service", "top_up"]))
        rates = ADVANCE_RATES if category == "top_up" else RATES
        items = [
            {"name": f"товар {k}", **draw(line), "vat": draw(st.sampled_from(rates))}
            for k in range(draw(st.integers(min_value=1, max_value=4)))
        ]
        total = sum(line_kopecks(item) for item in items)
        assume(total > 0)  # 0.01 x 0.333 rounds to a zero receipt, rightly refused
        kind = "refund" if n > 0 and draw(st.booleans()) else "sale"
        card = draw(st.integers(min_value=0, max_value=total))
        prepaid = 0
        if category != "top_up" and kind == "sale":
            prepaid = draw(st.integers(min_value=0, max_value=total - card))
        change = 0 if kind == "refund" else draw(st.sampled_from([0, 1, 5000]))
        cash = total - card - prepaid + change
        payments = {"cash": money(cash), "card": money(card), "prepaid": money(prepaid)}
        bodies.append(
            {
                "id": f"r-{n}",
                "kind": kind,
                "category": category,
                "items": items,
                "payments": payments,
            }
        )
    return bodies


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bodies=receipts())
async def test_vat_is_one_figure_everywhere_to_the_kopeck(
    tmp_path_factory: pytest.TempPathFactory, bodies: list[dict[str, Any]]
) -> None:
    """Tape = tax registers (X) = Z = the agent's ShiftReport = the agent's rule, per rate."""
    tmp_path = tmp_path_factory.mktemp("vat")
    params = replace(FAST_WORKER, idle_tick_s=3600)
    async with agent_rig(tmp_path, params=params) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await rig.service.cash_in(Kopecks(10_000_000))  # refunds are paid from the drawer
        for body in bodies:
            response = await rig.client.post("/api/v1/receipts", json=body)
            assert response.status == 202, await response.text()
            row = rig.outbox.get(body["id"])
            assert row is not None
            await rig.worker._process(row)
            assert _state(rig, body["id"]) is RowState.DONE, rig.outbox.get(body["id"])
        results = {
            body["id"]: await (await rig.client.get(f"/api/v1/receipts/{body['id']}")).json()
            for body in bodies
        }
        x_report = shift_report_to_contract(await rig.service.x_report())
        z_report = shift_report_to_contract(await rig.service.close_shift())
        tape = _tape(rig.register.device)

    expected: dict[str, dict[str, Decimal]] = {"sale": {}, "refund": {}}
    for body in bodies:
        agent_vat = results[body["id"]]["fiscal"]["vat"]
        (on_tape,) = [e for e in tape if e.get("mark") == body["id"]]
        assert on_tape["vat"] == agent_vat, body["id"]  # the register signed the agent's figure
        for rate, amount in agent_vat.items():
            sums = expected[body["kind"]]
            sums[rate] = sums.get(rate, Decimal(0)) + Decimal(amount)
    (z_entry,) = [e for e in tape if e["type"] == "close_shift"]
    for kind, counters in (("sale", "sales"), ("refund", "refunds")):
        want = {rate: f"{amount:.2f}" for rate, amount in expected[kind].items()}
        for report in (x_report, z_report):
            got = getattr(report.counters, counters).vat or {}
            nonzero = {rate: f"{amount:.2f}" for rate, amount in got.items() if amount}
            assert nonzero == {r: a for r, a in want.items() if Decimal(a)}, (kind, report.kind)
        tape_z = z_entry["counters"]["vat"][counters]
        assert {r: a for r, a in tape_z.items() if Decimal(a)} == {
            r: a for r, a in want.items() if Decimal(a)
        }
