"""One state file for either front end: Shtrih's documents read through ATOL's API and back.

The Shtrih device writes a receipt with its mark (FF0C 1084); the ATOL front end, started on
the same file, reads that document back, sells in the same shift, and the Shtrih device
restored from the file continues the tape; ``tape`` shows both receipts with their marks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from simwire import SYSADMIN, Register, ff45_body, ff46_body, pw, tlv

from firmware_sim.cli import main
from firmware_sim.store import StateStore
from tests.support.atol_sim import CONFIG, atol_rig

pytestmark = pytest.mark.timeout(20)


async def test_shtrih_and_atol_share_one_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fn.db"
    shtrih = Register(now=datetime.now(UTC))  # the ATOL rig runs on the host clock
    shtrih.open_shift()
    shtrih.ok(0xFF46, ff46_body(price=15000))
    shtrih.ok(0xFF0C, pw(SYSADMIN) + tlv(1084, tlv(1085, b"CRM ID") + tlv(1086, b"row-shtrih")))
    shtrih.ok(0xFF45, ff45_body({1: 15000}))
    store = StateStore(path)
    store.save_identity(CONFIG)
    store.save(shtrih.device.state)
    store.close()
    shtrih_fd = shtrih.device.state.last_fd

    async with atol_rig(path) as rig:
        [doc] = await rig.run("read", {"type": "getFnDocument", "fiscalDocumentNumber": shtrih_fd})
        assert doc["result"]["documentTLV"]["1084"] == {"1085": "CRM ID", "1086": "row-shtrih"}
        [shift] = await rig.run("shift", {"type": "getShiftStatus"})
        assert shift["result"]["shiftStatus"]["state"] == "opened"
        sale = {
            "type": "sell",
            "items": [
                {
                    "type": "position",
                    "name": "Чай",
                    "price": 50.0,
                    "quantity": 1,
                    "tax": {"type": "none"},
                },
                {"type": "userAttribute", "name": "CRM ID", "value": "row-atol"},
            ],
            "payments": [{"type": "cash", "sum": 50.0}],
        }
        [sold] = await rig.run("sale", sale)
        assert sold["result"]["fiscalParams"]["fiscalReceiptNumber"] == 2  # the same shift

    store = StateStore(path)
    again = Register.with_state(store.load())  # type: ignore[arg-type]
    store.close()
    assert again.device.state.last_fd == shtrih_fd + 1
    assert again.device.state.money_register(241) == 20000  # the drawer saw both sales

    capsys.readouterr()  # the simulator's log lines so far
    assert main(["tape", "--state", str(path)]) == 0
    tape = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d.get("mark") for d in tape if d["type"] == "receipt"] == ["row-shtrih", "row-atol"]
