"""The tax table ATOL and SmartOne drivers report: their own rates, in each device's words."""

from __future__ import annotations

from agent.domain.receipt import VatRate
from agent.drivers.interface import TaxRow
from agent.drivers.named_rates import named_rates_setup, row_name


def test_row_names_in_each_devices_word_for_vat() -> None:
    assert row_name(VatRate.NONE, "НДС") == "без НДС"
    assert row_name(VatRate.NONE, "VAT") == "без НДС"
    assert row_name(VatRate.VAT22, "НДС") == "НДС 22%"
    assert row_name(VatRate.VAT22_122, "НДС") == "НДС 22/122"
    assert row_name(VatRate.VAT18, "VAT") == "VAT 18%"
    assert row_name(VatRate.VAT20_120, "VAT") == "VAT 20/120"


def test_the_table_is_the_config_map_in_row_order_and_not_read() -> None:
    setup = named_rates_setup({VatRate.VAT18: 3, VatRate.NONE: 1, VatRate.VAT10_110: 2}, "VAT")
    assert setup.computes_vat is True
    assert setup.is_read_from_register is False
    assert setup.rows == (
        TaxRow(index=1, rate_hundredths=0, name="без НДС"),
        TaxRow(index=2, rate_hundredths=1000, name="VAT 10/110"),
        TaxRow(index=3, rate_hundredths=1800, name="VAT 18%"),
    )
