"""TaxSetup.mismatches, TaxRow and the frozen VAT mappings of ShiftCounters (pure)."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import VatRate
from agent.drivers.interface import (
    VAT_RATE_HUNDREDTHS,
    PaymentTotals,
    ShiftCounters,
    TaxRow,
    TaxSetup,
)
from agent.drivers.shtrih.params import DEFAULT_TAX_RATE_INDEX
from tests.support.fake_fiscal_driver import DEFAULT_TAX_SETUP

ROWS = DEFAULT_TAX_RATE_INDEX


def _with_row(index: int, rate: int, name: str) -> TaxSetup:
    rows = tuple(
        TaxRow(index=index, rate_hundredths=rate, name=name) if row.index == index else row
        for row in DEFAULT_TAX_SETUP.rows
    )
    return dataclasses.replace(DEFAULT_TAX_SETUP, rows=rows)


def test_tax_setup_default_fits_the_default_rows() -> None:
    """The fake's default table is the simulator's, in DEFAULT_TAX_RATE_INDEX row order."""
    assert DEFAULT_TAX_SETUP.mismatches(ROWS) == ()
    by_row = {row.index: row for row in DEFAULT_TAX_SETUP.rows}
    for rate, index in ROWS.items():
        assert by_row[index].rate_hundredths == VAT_RATE_HUNDREDTHS[rate], rate


def test_tax_setup_host_computed_vat_is_a_mismatch() -> None:
    """Tax mode 1 (the host computes VAT) is refused even with a fitting table."""
    setup = dataclasses.replace(DEFAULT_TAX_SETUP, computes_vat=False)
    (problem,) = setup.mismatches(ROWS)
    assert "does not compute VAT" in problem


def test_tax_setup_missing_rows() -> None:
    """A six-row table (2021 firmware) lacks the rows of 5 %, 7 % and the others."""
    setup = dataclasses.replace(DEFAULT_TAX_SETUP, rows=DEFAULT_TAX_SETUP.rows[:6])
    problems = setup.mismatches(ROWS)
    assert problems == tuple(
        f"{rate.code}: the register has no tax row {index}"
        for rate, index in sorted(ROWS.items(), key=lambda pair: pair[1])
        if index > 6
    )


@pytest.mark.parametrize(
    ("index", "rate", "name", "problem"),
    [
        pytest.param(
            5,
            2200,
            "НДС 22%",
            'vat22_122: tax row 5 "НДС 22%" (22.00 %) is not a calculated rate',
            id="calculated-without-slash",
        ),
        pytest.param(
            1,
            2200,
            "НДС 22/122",
            'vat22: tax row 1 "НДС 22/122" (22.00 %) is not a plain rate',
            id="plain-with-slash",
        ),
        pytest.param(
            4,
            0,
            "НДС 0%",
            'none: tax row 4 "НДС 0%" (0.00 %) is not "без НДС"',
            id="none-is-zero-percent",
        ),
        pytest.param(
            3,
            0,
            "Без НДС",
            'vat0: tax row 3 "Без НДС" (0.00 %) is "без НДС", not 0.00 %',
            id="zero-percent-is-without-vat",
        ),
        pytest.param(
            2,
            1050,
            "НДС 10%",
            'vat10: tax row 2 "НДС 10%" (10.50 %) is not 10.00 %',
            id="rate-off",
        ),
    ],
)
def test_tax_setup_names_each_mismatch(index: int, rate: int, name: str, problem: str) -> None:
    """One line per problem, naming the rate's code, the row, its name and its rate."""
    assert _with_row(index, rate, name).mismatches(ROWS) == (problem,)


def test_tax_row_without_vat_in_any_case() -> None:
    """Hardware names it "БЕЗ НДС": still without VAT; a non-zero rate never is."""
    assert TaxRow(index=4, rate_hundredths=0, name="БЕЗ НДС").is_without_vat
    assert not TaxRow(index=4, rate_hundredths=100, name="без НДС").is_without_vat
    assert TaxRow(index=9, rate_hundredths=500, name="НДС 5/105%").is_calculated


def test_shift_counters_vat_is_a_frozen_copy() -> None:
    """The VAT mappings become MappingProxyType over a copy: the caller's dict cannot leak."""
    zero = PaymentTotals(cash=Kopecks(0), card=Kopecks(0), prepaid=Kopecks(0), count=0)
    sales = {VatRate.VAT22: Kopecks(2200)}
    counters = ShiftCounters(
        shift=1,
        sales=zero,
        refunds=zero,
        cash_in=Kopecks(0),
        cash_out=Kopecks(0),
        cash_in_drawer=Kopecks(0),
        sales_vat=sales,
        refunds_vat={},
    )
    sales[VatRate.VAT22] = Kopecks(1)
    assert isinstance(counters.sales_vat, MappingProxyType)
    assert counters.sales_vat == {VatRate.VAT22: 2200}
    with pytest.raises(TypeError):
        counters.sales_vat[VatRate.VAT22] = Kopecks(0)  # type: ignore[index]
