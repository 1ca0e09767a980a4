"""``firmware-sim serve --smartone``: argument checks, and the process across a SIGKILL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientConnectionError, ClientSession

from agent.drivers.smartone.envelope import CONTENT_TYPE, encode_body
from firmware_sim.cli import main
from tests.support.smartone_sim import MERCHANT_ID, SmartOneSimProcess

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["serve", "--smartone", "127.0.0.1:0"], id="no-merchant-id"),
        pytest.param(
            ["serve", "--smartone", "127.0.0.1:0", "--merchant-id", "0123"], id="short-id"
        ),
        pytest.param(
            ["serve", "--smartone", "127.0.0.1:0", "--merchant-id", "g" * 32], id="not-hex"
        ),
    ],
)
def test_merchant_id_is_checked(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "merchant-id" in captured.err


def test_help_names_the_merchant_id_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--smartone" in text
    assert "exactly 32 hex characters" in text
    assert "--no-refuse-z-with-cash" in text
    assert "--no-refuse-empty-z" in text


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["serve", "--smartone", "127.0.0.1:x"], id="bad-port"),
        pytest.param(["serve", "--smartone", "h:1", "--tax-percents", "18%"], id="bad-taxes"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2


@pytest.fixture
def cashbox(tmp_path: Path) -> Iterator[SmartOneSimProcess]:
    sim = SmartOneSimProcess(state_file=tmp_path / "smartone.db")
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


async def _call(base: str, route: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with (
        ClientSession() as session,
        session.post(
            f"{base}/{route}",
            data=encode_body(payload, MERCHANT_ID),
            headers={"Content-Type": CONTENT_TYPE},
        ) as response,
    ):
        return dict(await response.json())


SALE = {
    "documentExtID": "crm-1",
    "amount": 1000,
    "items": [
        {
            "itemName": "Su",
            "itemQty": 1000,
            "itemAmount": 1000,
            "itemTaxes": [{"taxName": "VAT", "taxPrc": 1800}],
        }
    ],
    "payments": {"cashAmount": 1000},
}


async def test_power_cut_after_the_sale_then_sigkill_keeps_one_document(
    cashbox: SmartOneSimProcess,
) -> None:
    assert (await _call(cashbox.url, "open_shift", {}))["code"] == 0
    cashbox.post("/power/cut", {"on_task": "sale", "after": True})
    with pytest.raises(ClientConnectionError):
        await _call(cashbox.url, "sale", SALE)
    cashbox.restart(kill=True)
    status = await _call(cashbox.url, "check_status", {"documentExtID": "crm-1"})
    resent = await _call(cashbox.url, "sale", SALE)
    assert status["code"] == 0
    assert status["docStatus"] == 1
    assert resent["code"] == 0
    assert resent["fiscalID"] == status["fiscalID"]
    marks = [e["mark"] for e in cashbox.tape() if e["type"] == "receipt"]
    assert marks == ["crm-1"]


async def test_settings_through_the_control_api(cashbox: SmartOneSimProcess) -> None:
    assert (await _call(cashbox.url, "open_shift", {}))["code"] == 0
    assert (await _call(cashbox.url, "close_shift", {}))["code"] == 26
    state = cashbox.post("/settings", {"refuse_empty_z": False})
    assert state["settings"]["refuse_empty_z"] is False
    assert state["settings"]["refuse_z_with_cash"] is True
    assert (await _call(cashbox.url, "close_shift", {}))["code"] == 0
