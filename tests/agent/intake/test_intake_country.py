"""The intake refuses a VAT rate the configured country has not: vat_rate_not_in_country.

The country comes from the composition (``Intake(country=...)``, as agent/app.py passes the
config's profile); nothing is stored for a refused receipt, and the HTTP API answers 422 with
the code and the line's field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog

from agent.domain.country import AZ, RU
from agent.drivers.errors import Disposition
from agent.intake import Intake
from agent.intake.errors import InvalidRequest, RequestNotFound, VatRateNotInCountry
from tests.support.agent_rig import AgentRig, agent_rig
from tests.support.payloads import receipt


def _with_vat(request_id: str, vat: str, name: str = "Su 0,5") -> dict[str, Any]:
    body = receipt(request_id, 120)
    body["items"][0].update(vat=vat, name=name)
    body["cashier"] = {"name": "Aliyeva N."}
    return body


def _azerbaijan(rig: AgentRig) -> Intake:
    return Intake(
        config=rig.config,
        outbox=rig.outbox,
        worker=rig.worker,
        log=structlog.get_logger("test"),
        country=AZ,
    )


async def test_intake_country_is_the_configs_by_default(tmp_path: Path) -> None:
    """The rig's config sets no country: Russia."""
    async with agent_rig(tmp_path) as rig:
        assert rig.config.profile is RU


async def test_intake_refuses_vat22_in_azerbaijan(tmp_path: Path) -> None:
    """vat22 where the country is AZ: rejected with the code, naming the rate and country."""
    async with agent_rig(tmp_path) as rig:
        intake = _azerbaijan(rig)
        with pytest.raises(VatRateNotInCountry) as info:
            await intake.submit_receipt(_with_vat("az-1", "vat22"))
        error = info.value
        assert (error.public_code, error.field) == ("vat_rate_not_in_country", "items.0.vat")
        assert error.disposition is Disposition.REJECT
        assert isinstance(error, InvalidRequest)
        assert "vat22 is not a VAT rate in Azerbaijan (AZ): use vat18, vat0 or none" in str(error)
        with pytest.raises(RequestNotFound):
            await intake.row("az-1")  # nothing stored


async def test_intake_takes_vat18_in_azerbaijan(tmp_path: Path) -> None:
    """vat18 with an Azerbaijani name is taken in AZ (stored, pending for the register)."""
    async with agent_rig(tmp_path) as rig:
        submitted = await _azerbaijan(rig).submit_receipt(
            _with_vat("az-2", "vat18", "Balans artırılması")
        )
        assert submitted.is_new
        assert submitted.row.receipt is not None
        assert submitted.row.receipt.items[0].vat.code == "vat18"


async def test_intake_refuses_vat18_in_russia_over_http(tmp_path: Path) -> None:
    """vat18 on a Russian agent: HTTP 422 with the code and the field; nothing stored."""
    async with agent_rig(tmp_path) as rig:
        response = await rig.client.post(
            "/api/v1/receipts", json=_with_vat("ru-1", "vat18", "Кофе")
        )
        assert response.status == 422
        body = await response.json()
        assert body["error"]["code"] == "vat_rate_not_in_country"
        assert body["error"]["field"] == "items.0.vat"
        assert "vat18 is not a VAT rate in Russia (RU)" in body["error"]["message"]
        assert rig.outbox.get("ru-1") is None
