"""The VAT rule: per receipt and rate, T x p / (100 + p), half up to the kopeck."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.domain.money import Kopecks
from agent.domain.receipt import VatRate
from agent.domain.vat import RATE_HUNDREDTHS, rate_vat, receipt_vat
from tests.support.receipts import goods_receipt


def test_vat_known_amounts() -> None:
    """150.00 at 22 % holds 27.05; 100.00 at 10/110 holds 9.09; 0.01 at 22 % holds nothing."""
    assert rate_vat(Kopecks(15000), VatRate.VAT22) == 2705
    assert rate_vat(Kopecks(15000), VatRate.VAT22_122) == 2705
    assert rate_vat(Kopecks(10000), VatRate.VAT10_110) == 909
    assert rate_vat(Kopecks(1), VatRate.VAT22) == 0
    assert rate_vat(Kopecks(61), VatRate.VAT22) == 11  # 10.999... rounds up
    assert rate_vat(Kopecks(12345), VatRate.NONE) == 0
    assert rate_vat(Kopecks(12345), VatRate.VAT0) == 0


def test_vat_18_known_amounts_in_qepik() -> None:
    """Azerbaijan's 18 %: T x 18 / 118, half up to the qəpik (1/100 AZN, held as Kopecks)."""
    assert RATE_HUNDREDTHS[VatRate.VAT18] == 1800  # what a SmartOne cash box sends as taxPrc
    vectors = {
        118: 18,  # 1.18 AZN holds exactly 0.18
        1180000: 180000,  # 11 800.00 AZN holds exactly 1 800.00
        59: 9,  # 0.59 holds exactly 0.09
        100: 15,  # 15.25 qəpik
        1000: 153,  # 152.54 qəpik rounds up
        740: 113,  # 112.88: the 7.40 AZN receipt of two lines at 18 %
        500: 76,  # 76.27
        240: 37,  # 36.61
        3: 0,  # 0.46
        4: 1,  # 0.61
        1: 0,
    }
    assert {t: rate_vat(Kopecks(t), VatRate.VAT18) for t in vectors} == vectors


def test_vat_is_computed_once_per_rate_on_the_sum() -> None:
    """Three 0.03 lines at 22 %: 0.09 holds 0.02 (1.62 kopecks), not 3 x 0.01 per line."""
    three = goods_receipt((3, VatRate.VAT22), (3, VatRate.VAT22), (3, VatRate.VAT22))
    assert receipt_vat(three) == {VatRate.VAT22: 2}
    assert rate_vat(Kopecks(3), VatRate.VAT22) == 1  # what each line alone would round to


def test_vat_rates_are_kept_apart() -> None:
    """Each rate of a receipt gets its own sum; rates without VAT show 0."""
    vat = receipt_vat(
        goods_receipt((15000, VatRate.VAT22), (10000, VatRate.VAT10), (500, VatRate.NONE))
    )
    assert vat == {VatRate.VAT22: 2705, VatRate.VAT10: 909, VatRate.NONE: 0}


@given(
    turnover=st.integers(min_value=0, max_value=10**12),
    rate=st.sampled_from(list(VatRate)),
)
def test_vat_is_the_nearest_kopeck_half_up(turnover: int, rate: VatRate) -> None:
    """For any amount: |VAT - exact| <= 0.5 kopeck, and exactly .5 rounds up."""
    p = RATE_HUNDREDTHS[rate]
    vat = rate_vat(Kopecks(turnover), rate)
    exact_times_two = 2 * turnover * p  # twice the exact VAT, times (10000 + p)
    assert abs(2 * vat * (10_000 + p) - exact_times_two) <= 10_000 + p
    if exact_times_two % (2 * (10_000 + p)) == 10_000 + p:  # exactly half a kopeck
        assert vat * (10_000 + p) > turnover * p
