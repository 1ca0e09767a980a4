"""An X or Z report's counters as the agent's :class:`ShiftCounters`. Pure.

The cashbox sums VAT by percent (``saleVatAmounts``): each percent maps back to the one
plain rate of :data:`agent.domain.vat.RATE_HUNDREDTHS` with it (1800 -> the 18 % rate once
the domain has it). A calculated rate (20/120) shares its percent with the plain one and
cannot be told apart, so it is left out; a percent no rate has is left out too. Rates
without VAT are 0 (docs/smartone-driver.md "Counters").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from agent.domain.money import Kopecks
from agent.domain.receipt import CALCULATED_RATES, VatRate
from agent.domain.vat import RATE_HUNDREDTHS
from agent.drivers.interface import NO_VAT_RATES, PaymentTotals, ShiftCounters
from agent.drivers.smartone.replies import ShiftTotals, VatAmount

__all__ = ["PLAIN_RATE_BY_PERCENT", "shift_counters", "vat_by_rate"]


def _plain_rates() -> Mapping[int, VatRate]:
    seen: dict[int, list[VatRate]] = {}
    for rate, hundredths in RATE_HUNDREDTHS.items():
        if rate not in CALCULATED_RATES and rate not in NO_VAT_RATES:
            seen.setdefault(hundredths, []).append(rate)
    return MappingProxyType({pct: rates[0] for pct, rates in seen.items() if len(rates) == 1})


PLAIN_RATE_BY_PERCENT: Final = _plain_rates()
"""Hundredths of a percent -> the one plain VAT rate with it (a shared percent is left out)."""


def vat_by_rate(amounts: Iterable[VatAmount], rates: Iterable[VatRate]) -> dict[VatRate, Kopecks]:
    """VAT by rate for the ``rates`` the driver sends: read, 0 when absent, or left out.

    A plain rate absent from the report had no turnover (0); a rate without VAT is 0; a
    calculated rate is left out (its VAT is inside its plain twin's percent).
    """
    read: dict[VatRate, int] = {}
    for entry in amounts:
        rate = PLAIN_RATE_BY_PERCENT.get(entry.percent)
        if rate is not None:
            read[rate] = read.get(rate, 0) + entry.amount
    result: dict[VatRate, Kopecks] = {}
    for rate in rates:
        if rate in CALCULATED_RATES:
            continue
        result[rate] = Kopecks(0 if rate in NO_VAT_RATES else read.get(rate, 0))
    return result


def shift_counters(totals: ShiftTotals, rates: Iterable[VatRate], shift: int) -> ShiftCounters:
    """The counters of one report; ``prepaid`` is what is neither cash nor card (a guess)."""
    rates = tuple(rates)
    return ShiftCounters(
        shift=totals.shift_id if totals.shift_id is not None else shift,
        sales=PaymentTotals(
            cash=Kopecks(totals.sale_cash_sum),
            card=Kopecks(totals.sale_cashless_sum),
            prepaid=Kopecks(
                max(0, totals.sale_sum - totals.sale_cash_sum - totals.sale_cashless_sum)
            ),
            count=totals.sale_count,
        ),
        refunds=PaymentTotals(
            cash=Kopecks(totals.money_back_cash_sum),
            card=Kopecks(totals.money_back_cashless_sum),
            prepaid=Kopecks(
                max(
                    0,
                    totals.money_back_sum
                    - totals.money_back_cash_sum
                    - totals.money_back_cashless_sum,
                )
            ),
            count=totals.money_back_count,
        ),
        cash_in=Kopecks(totals.deposit_sum),
        cash_out=Kopecks(totals.withdraw_sum),
        cash_in_drawer=Kopecks(totals.cash),
        sales_vat=vat_by_rate(totals.sale_vat, rates),
        refunds_vat=vat_by_rate(totals.money_back_vat, rates),
    )
