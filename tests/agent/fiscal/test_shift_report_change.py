"""Cash received and change in the shift report (v1.1), to the kopeck, through the whole agent.

The register counts cash net of change (money registers 193 and 195) and keeps no shift total
of change; the FN does not store change either. So the report's change is what the register
answered for each of the agent's own receipts (FF45), summed from the outbox, and received =
cash + change. A receipt printed past the agent counts as given without change: the test pins
that too, as docs/contract.md states it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.fiscal.reports import ShiftChange
from agent.intake.report_mapping import shift_report_to_contract
from agent.outbox.states import RowState
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.by_hand import print_by_hand
from tests.support.payloads import receipt

pytestmark = pytest.mark.timeout(60)


async def _print(rig: AgentRig, body: dict[str, object]) -> None:
    response = await rig.client.post("/api/v1/receipts", json=body)
    assert response.status == 202, await response.text()
    row = rig.outbox.get(str(body["id"]))
    assert row is not None
    await rig.worker._process(row)
    done = rig.outbox.get(str(body["id"]))
    assert done is not None
    assert done.state is RowState.DONE, done


async def test_report_carries_cash_received_and_change_of_the_agents_receipts(
    tmp_path: Path,
) -> None:
    """X and Z: change is the sum of the agent's receipts' change; received - change = cash."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _print(rig, receipt("a", 15000, extra_cash=5000))  # 200.00 for 150.00
        await _print(rig, receipt("b", 12345, extra_cash=1))  # 123.46 for 123.45
        await _print(rig, receipt("c", 20000, pay="card"))
        # At the counter: 100.00 paid with 150.00 cash; the agent never hears of its change.
        print_by_hand(rig.register.device, price=10000, cash=15000)

        x = shift_report_to_contract(await rig.service.x_report())
        z_data = await rig.service.close_shift()
        z = shift_report_to_contract(z_data, request_id="close-1")

    tape_change = sum(doc.change for doc in rig.register.device.state.documents)
    assert tape_change == 5000 + 1 + 5000  # the register gave it all back
    assert z_data.change == ShiftChange(sales=Kopecks(5001), refunds=Kopecks(0))
    for report in (x, z):
        sales = report.counters.sales
        assert sales.cash == Decimal("373.45")  # 150.00 + 123.45 + 100.00, net of change
        assert sales.change == Decimal("50.01")
        assert sales.cash_received == Decimal("423.46")
        assert sales.cash_received - sales.change == sales.cash
        assert sales.card == Decimal("200.00")
        refunds = report.counters.refunds
        assert (refunds.cash, refunds.change, refunds.cash_received) == (0, 0, 0)
    assert x.request_id is None
    assert z.request_id == "close-1"
    wire = z.model_dump(mode="json")["counters"]["sales"]
    assert (wire["cash"], wire["cash_received"], wire["change"]) == ("373.45", "423.46", "50.01")


async def test_change_of_another_shift_is_not_counted(tmp_path: Path) -> None:
    """The next shift starts at zero change, whatever the last one gave."""
    async with agent_rig(tmp_path) as rig:
        await rig.service.connect()
        await rig.service.open_shift()
        await _print(rig, receipt("a", 15000, extra_cash=5000))
        await rig.service.close_shift()
        opened = await rig.service.open_shift()
        await _print(rig, receipt("b", 10000, extra_cash=250))
        x = await rig.service.x_report()

    assert opened.change == ShiftChange()
    assert x.change == ShiftChange(sales=Kopecks(250))


async def test_report_without_a_change_source_leaves_the_fields_out(tmp_path: Path) -> None:
    """An agent that cannot tell the change says nothing rather than a wrong zero."""
    async with agent_rig(tmp_path) as rig:
        rig.service._shift_change = None
        await rig.service.connect()
        report = shift_report_to_contract(await rig.service.open_shift())

    wire = report.model_dump(mode="json", exclude_none=True)["counters"]["sales"]
    assert "change" not in wire
    assert "cash_received" not in wire
    assert wire["cash"] == "0.00"
