"""Azerbaijan's receipts never reach a Russian register: Shtrih and ATOL refuse them clearly.

VatRate.VAT18 has no FFD byte (tag 1199), no row in a Shtrih tax table and no ATOL
``tax.type``: each driver refuses such a receipt with :class:`VatRateNotSupported` (REJECT)
before anything is sent, instead of a KeyError halfway through the receipt.
"""

from __future__ import annotations

import dataclasses

import pytest

from agent.domain.country import RU
from agent.domain.receipt import VatRate
from agent.drivers.atol.codec.tasks import receipt_task
from agent.drivers.errors import Disposition, TaxSystemMissing, VatRateNotSupported
from agent.drivers.shtrih.params import DEFAULT_TAX_RATE_INDEX, DriverParams
from tests.support.receipts import goods_receipt, receipt_ref
from tests.support.shtrih_rig import Rig

MIXED = goods_receipt((500, VatRate.VAT22), (240, VatRate.VAT18), (100, VatRate.VAT18))


def test_vat18_error_is_final_and_named() -> None:
    """REJECT, a public code, and a message naming the driver and the rate."""
    error = VatRateNotSupported("Shtrih", ("vat18",))
    assert error.disposition is Disposition.REJECT
    assert error.public_code == "vat_rate_unsupported"
    assert str(error).startswith("the Shtrih driver has no tax row for vat18:")


def test_vat18_shtrih_tax_table_is_russian() -> None:
    """The Shtrih tax table maps every Russian rate and needs no row for vat18."""
    assert set(DEFAULT_TAX_RATE_INDEX) == set(RU.vat_rates)
    DriverParams()  # the default table is complete for Russia
    incomplete = {
        rate: row for rate, row in DEFAULT_TAX_RATE_INDEX.items() if rate is not VatRate.VAT10
    }
    with pytest.raises(ValueError, match="vat10"):
        DriverParams(tax_rate_index=incomplete)


async def test_vat18_shtrih_refuses_before_sending(rig: Rig) -> None:
    """A receipt with vat18 lines: refused, once per rate, and no command goes out."""
    sent = rig.command_codes()
    with pytest.raises(VatRateNotSupported) as info:
        await rig.driver.register(MIXED, ref=receipt_ref("az-1"))
    assert info.value.codes == ("vat18",)
    assert "Shtrih" in str(info.value)
    assert rig.command_codes() == sent


def test_vat18_atol_refuses_the_task() -> None:
    """ATOL has no tax.type for vat18: the task is never built."""
    with pytest.raises(VatRateNotSupported) as info:
        receipt_task(MIXED, mark="az-1")
    assert (info.value.driver, info.value.codes) == ("ATOL", ("vat18",))


NO_TAX_SYSTEM = dataclasses.replace(goods_receipt((500, VatRate.VAT0)), tax_system=None)
"""A receipt taken for Azerbaijan (no tag 1055) with a rate Russia has too."""


async def test_no_tax_system_shtrih_refuses_before_sending(rig: Rig) -> None:
    """No tax system: TaxSystemMissing (REJECT), and no command goes out."""
    sent = rig.command_codes()
    with pytest.raises(TaxSystemMissing) as info:
        await rig.driver.register(NO_TAX_SYSTEM, ref=receipt_ref("az-2"))
    assert info.value.disposition is Disposition.REJECT
    assert info.value.public_code == "tax_system_missing"
    assert "Shtrih register cannot print it" in str(info.value)
    assert rig.command_codes() == sent


def test_no_tax_system_atol_refuses_unless_configured() -> None:
    """ATOL refuses it too, unless [atol] tax_system names the taxation type for every receipt."""
    with pytest.raises(TaxSystemMissing, match="ATOL"):
        receipt_task(NO_TAX_SYSTEM, mark="az-2")
    assert receipt_task(NO_TAX_SYSTEM, mark="az-2", taxation_type="osn")["taxationType"] == "osn"
