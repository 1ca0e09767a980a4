"""An X report's counters as ShiftCounters: VAT mapped back by percent (agent/domain/vat.py)."""

from __future__ import annotations

from agent.domain.receipt import CALCULATED_RATES, VatRate
from agent.domain.vat import RATE_HUNDREDTHS
from agent.drivers.smartone.counters import PLAIN_RATE_BY_PERCENT, shift_counters, vat_by_rate
from agent.drivers.smartone.replies import VatAmount, shift_totals
from tests.agent.drivers.smartone.test_smartone_codec import X_REPORT


def test_counters_by_payment_type_and_cash() -> None:
    """Sales and refunds by cash/card (prepaid = the rest), cash in/out, the drawer."""
    counters = shift_counters(shift_totals(X_REPORT), [VatRate.VAT20, VatRate.NONE], shift=1)
    assert counters.shift == 17
    assert (counters.sales.cash, counters.sales.card, counters.sales.prepaid) == (1300, 440, 0)
    assert counters.sales.count == 3
    assert (counters.refunds.cash, counters.refunds.count) == (500, 1)
    assert (counters.cash_in, counters.cash_out, counters.cash_in_drawer) == (10000, 3300, 8000)
    assert counters.sales_vat == {VatRate.VAT20: 290, VatRate.NONE: 0}
    assert counters.refunds_vat == {VatRate.VAT20: 83, VatRate.NONE: 0}


def test_a_calculated_rate_is_left_out_and_an_absent_plain_rate_is_zero() -> None:
    """20/120 shares 20 %'s percent: not reported; 10 % absent from the report: 0."""
    vat = vat_by_rate(
        [VatAmount(percent=2000, amount=10)], [VatRate.VAT20, VatRate.VAT20_120, VatRate.VAT10]
    )
    assert vat == {VatRate.VAT20: 10, VatRate.VAT10: 0}


def test_eighteen_percent_maps_to_the_domains_rate_with_it_or_is_left_out() -> None:
    """1800 maps through RATE_HUNDREDTHS: to Azerbaijan's 18 % rate once the domain has it.

    Until then no rate has 1800 and the amount is left out, never put on another rate.
    """
    holders = [
        rate
        for rate, pct in RATE_HUNDREDTHS.items()
        if pct == 1800 and rate not in CALCULATED_RATES
    ]
    amounts = [VatAmount(percent=1800, amount=113), VatAmount(percent=2000, amount=7)]
    vat = vat_by_rate(amounts, RATE_HUNDREDTHS.keys())
    if holders:
        (rate,) = holders
        assert PLAIN_RATE_BY_PERCENT[1800] is rate
        assert vat[rate] == 113
    else:
        assert 1800 not in PLAIN_RATE_BY_PERCENT
        assert 113 not in vat.values()
    assert vat[VatRate.VAT20] == 7
