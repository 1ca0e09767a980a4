"""The ATOL front end's reads ``getShiftTotals`` and ``ofdExchangeStatus`` (firmware_sim/atol/totals.py)."""

from __future__ import annotations

import pytest

from tests.firmware_sim.test_sim_atol_web import _opened, _sell
from tests.support.atol_sim import atol_rig

pytestmark = pytest.mark.timeout(20)


async def test_shift_totals_count_sales_refunds_and_cash_moves() -> None:
    """Money by receipt kind and payment type, cash in/out and the drawer, as the driver reads it."""
    async with atol_rig() as rig:
        await _opened(rig)
        assert (await rig.run("s1", [_sell(cash=200.0, price=150.0)]))[0]["status"] == "ready"
        assert (await rig.run("s2", [_sell(card=90.0, price=90.0)]))[0]["status"] == "ready"
        refund = _sell(cash=40.0, price=40.0, kind="sellReturn")
        assert (await rig.run("r1", [refund]))[0]["status"] == "ready"
        assert (await rig.run("in", [{"type": "cashIn", "cashSum": 500.0}]))[0]["status"] == "ready"
        (result,) = await rig.run("t", [{"type": "getShiftTotals"}])
        totals = result["result"]["shiftTotals"]
        assert totals["shiftNumber"] == 1
        sell = totals["receipts"]["sell"]
        assert sell["count"] == 2
        assert sell["payments"]["cash"] == 150.0  # the change is not kept
        assert sell["payments"]["electronically"] == 90.0
        assert sell["sum"] == 240.0
        assert totals["receipts"]["sellReturn"]["payments"]["cash"] == 40.0
        assert totals["income"]["sum"] == 500.0
        assert totals["outcome"]["sum"] == 0.0
        assert totals["cashDrawer"]["sum"] == 150.0 - 40.0 + 500.0


async def test_ofd_exchange_status_counts_the_unacknowledged_documents() -> None:
    """Every FD after the last one the OFD acknowledged, and the first one's number."""
    async with atol_rig() as rig:
        await _opened(rig)
        assert (await rig.run("s1", [_sell(cash=150.0)]))[0]["status"] == "ready"
        (result,) = await rig.run("o", [{"type": "ofdExchangeStatus"}])
        status = result["result"]["status"]
        assert status["notSentCount"] == 2  # the open-shift report and the receipt
        assert status["notSentFirstDocNumber"] == 2
        assert status["notSentFirstDocDateTime"]
        await rig.ctl("/ofd/ack")
        (result,) = await rig.run("o2", [{"type": "ofdExchangeStatus"}])
        assert result["result"]["status"]["notSentCount"] == 0
        assert result["result"]["warnings"]["dataForSendIsEmpty"] is True
