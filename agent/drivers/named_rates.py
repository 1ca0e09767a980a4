"""The tax table of a device that names each line's rate instead of a row (ATOL, SmartOne).

Pure. Such a device computes each line's VAT from the rate the line names, so there is no
table to read and no tax mode to get wrong: the driver reports its own rate -> row map
(``tax_rate_codes``) as the table, flagged ``is_read_from_register=False``. Rows are named as
the agent's tax-table check expects, in the device's own word for VAT: "без НДС", "НДС 22%",
"VAT 20/120".
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.domain.receipt import CALCULATED_RATES, VatRate
from agent.drivers.interface import VAT_RATE_HUNDREDTHS, TaxRow, TaxSetup

__all__ = ["named_rates_setup", "row_name"]


def row_name(rate: VatRate, vat_word: str) -> str:
    """A row's name: "без НДС", "<vat_word> 22%", "<vat_word> 22/122"."""
    if rate is VatRate.NONE:
        return "без НДС"
    percent = VAT_RATE_HUNDREDTHS[rate] // 100
    if rate in CALCULATED_RATES:
        return f"{vat_word} {percent}/{100 + percent}"
    return f"{vat_word} {percent}%"


def named_rates_setup(tax_rate_codes: Mapping[VatRate, int], vat_word: str) -> TaxSetup:
    """The driver's own rates as a table, in row order; nothing was read from the device."""
    rows = tuple(
        TaxRow(
            index=index, rate_hundredths=VAT_RATE_HUNDREDTHS[rate], name=row_name(rate, vat_word)
        )
        for rate, index in sorted(tax_rate_codes.items(), key=lambda pair: pair[1])
    )
    return TaxSetup(computes_vat=True, rows=rows, is_read_from_register=False)
