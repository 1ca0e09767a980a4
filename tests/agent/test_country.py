"""Country profiles: RU and AZ, their VAT rates and requisites, and the rules that follow them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.domain.country import (
    AZ,
    COUNTRIES,
    RU,
    VAT22_SINCE,
    RateTerm,
    UnknownCountry,
    country_profile,
)
from agent.domain.errors import ReceiptRuleError
from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    CATEGORY_DEFAULTS,
    Cashier,
    Category,
    Correction,
    CorrectionType,
    Item,
    PaymentSubject,
    Receipt,
    VatRate,
)
from agent.domain.rules import RETIRED_RATES, check_receipt
from agent.domain.vat import RATE_HUNDREDTHS, rate_vat, receipt_vat
from tests.support.receipts import goods_receipt

DAY = date(2026, 3, 14)
AZ_CASHIER = Cashier(name="Aliyeva N.")


def _az(*lines: tuple[int, VatRate], name: str = "Su 0,5") -> Receipt:
    return replace(goods_receipt(*lines, name=name), cashier=AZ_CASHIER)


# -- the profiles -------------------------------------------------------------------------------


def test_country_profiles_by_code() -> None:
    """RU and AZ by their codes; an unknown code names the known ones."""
    assert country_profile("RU") is RU
    assert country_profile("AZ") is AZ
    assert set(COUNTRIES) == {"RU", "AZ"}
    with pytest.raises(UnknownCountry, match=r"'KZ'.*RU or AZ"):
        country_profile("KZ")


def test_country_profiles_money_and_protocols() -> None:
    """Currency, minor unit and the protocols that fiscalise in each country."""
    assert (RU.currency, RU.minor_per_unit, RU.minor_unit) == ("RUB", 100, "kopeck")
    assert (AZ.currency, AZ.minor_per_unit, AZ.minor_unit) == ("AZN", 100, "qəpik")
    assert RU.protocols == frozenset({"shtrih", "atol"})
    assert AZ.protocols == frozenset({"smartone"})
    assert RU.ffd_requisites
    assert not AZ.ffd_requisites
    assert (RU.item_name_charset, AZ.item_name_charset) == ("cp1251", None)


def test_country_vat_rates() -> None:
    """RU takes every FFD rate (20 % until 2026), AZ 18 %, 0 % and exempt; VAT18 is AZ's only."""
    assert set(RU.vat_rates) == set(VatRate) - {VatRate.VAT18}
    assert set(AZ.vat_rates) == {VatRate.VAT18, VatRate.VAT0, VatRate.NONE}
    assert RU.term(VatRate.VAT20) == RateTerm(VAT22_SINCE, VatRate.VAT22)
    assert RU.term(VatRate.VAT18) is None
    assert RETIRED_RATES == {
        VatRate.VAT20: VatRate.VAT22,
        VatRate.VAT20_120: VatRate.VAT22_122,
    }
    assert AZ.rate_codes() == ("vat18", "vat0", "none")
    assert "vat20" in RU.rate_codes(on=date(2025, 12, 31))
    assert "vat20" not in RU.rate_codes(on=VAT22_SINCE)


def test_country_vat18_has_no_ffd_byte() -> None:
    """VAT18's value is past any tag-1199 byte, so no FFD document decodes to it."""
    assert VatRate.VAT18.code == "vat18"
    assert VatRate.VAT18.value > 0xFF
    assert all(1 <= rate.value <= 12 for rate in RU.vat_rates)


def test_country_not_accepted_message() -> None:
    """The message names the rate, the country and the rates to use."""
    assert AZ.not_accepted(VatRate.VAT22) == (
        "vat22 is not a VAT rate in Azerbaijan (AZ): use vat18, vat0 or none"
    )
    message = RU.not_accepted(VatRate.VAT18, on=DAY)
    assert message.startswith("vat18 is not a VAT rate in Russia (RU): use vat22, vat10,")
    assert "vat20," not in message  # retired on that day: not offered


# -- VAT at 18 %, to the qəpik ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("turnover", "vat"),
    [
        (118, 18),
        (100, 15),
        (1000, 153),
        (740, 113),
        (59, 9),
        (4, 1),
        (3, 0),
        (99_999_999, 15254237),
    ],
)
def test_country_vat18_table(turnover: int, vat: int) -> None:
    """VAT inside T qəpik at 18 % is T x 18 / 118, half up."""
    assert rate_vat(Kopecks(turnover), VatRate.VAT18) == vat


@given(turnover=st.integers(min_value=0, max_value=10**12))
def test_country_vat18_is_the_nearest_qepik(turnover: int) -> None:
    """For any amount the VAT at 18 % is within half a qəpik of T x 18 / 118."""
    assert RATE_HUNDREDTHS[VatRate.VAT18] == 1800
    exact = Fraction(turnover * 18, 118)
    vat = rate_vat(Kopecks(turnover), VatRate.VAT18)
    assert abs(vat - exact) <= Fraction(1, 2)
    assert vat == int(exact + Fraction(1, 2))  # half up (an exact half cannot occur: 18T is even)


def test_country_vat18_per_receipt() -> None:
    """The 7.40 AZN receipt (5.00 top-up + 2 x 1.20 water at 18 %) holds 1.13 AZN of VAT."""
    receipt = goods_receipt((500, VatRate.VAT18), (240, VatRate.VAT18), (100, VatRate.NONE))
    assert receipt_vat(receipt) == {VatRate.VAT18: 113, VatRate.NONE: 0}


# -- the rules by country ----------------------------------------------------------------------


def test_country_rules_az_takes_its_rates() -> None:
    """18 %, 0 % and exempt pass in AZ, with Azerbaijani names (no cp1251 there)."""
    receipt = _az((500, VatRate.VAT18), (240, VatRate.VAT0), (100, VatRate.NONE), name="Çay ə")
    check_receipt(receipt, on=DAY, country=AZ)


@pytest.mark.parametrize("rate", [VatRate.VAT22, VatRate.VAT10, VatRate.VAT22_122, VatRate.VAT20])
def test_country_rules_az_refuses_russian_rates(rate: VatRate) -> None:
    """A Russian rate in AZ: vat_rate_not_in_country, naming the rate and the country."""
    with pytest.raises(ReceiptRuleError) as info:
        check_receipt(_az((500, VatRate.VAT18), (100, rate)), on=DAY, country=AZ)
    assert (info.value.code, info.value.field) == ("vat_rate_not_in_country", "items.1.vat")
    assert info.value.reason == (
        f"{rate.code} is not a VAT rate in Azerbaijan (AZ): use vat18, vat0 or none"
    )


def test_country_rules_ru_refuses_vat18() -> None:
    """vat18 in Russia (the default country) is refused the same way."""
    with pytest.raises(ReceiptRuleError) as info:
        check_receipt(goods_receipt((500, VatRate.VAT18)), on=DAY)
    assert (info.value.code, info.value.field) == ("vat_rate_not_in_country", "items.0.vat")
    assert "vat18 is not a VAT rate in Russia (RU)" in info.value.reason


def test_country_rules_ru_keeps_its_rules() -> None:
    """RU as before: cp1251 names and retired 20 %."""
    with pytest.raises(ReceiptRuleError, match="cp1251") as info:
        check_receipt(goods_receipt((500, VatRate.VAT22), name="Çay ə"), on=DAY, country=RU)
    assert info.value.code == "bad_item_name"
    with pytest.raises(ReceiptRuleError) as retired:
        check_receipt(goods_receipt((500, VatRate.VAT20)), on=DAY, country=RU)
    assert retired.value.code == "vat_rate_retired"
    assert "send vat22" in retired.value.reason


def test_country_rules_az_top_up_needs_no_calculated_rate() -> None:
    """An AZ top-up at 18 %: no tag 1214 there, so the advance-rate rule does not apply."""
    subject, method = CATEGORY_DEFAULTS[Category.TOP_UP]
    item = Item(
        name="Balans artırılması",
        qty=Micros(1_000_000),
        price=Kopecks(500),
        vat=VatRate.VAT18,
        subject=subject,
        method=method,
    )
    top_up = replace(goods_receipt((500, VatRate.VAT18)), items=(item,), cashier=AZ_CASHIER)
    check_receipt(top_up, on=DAY, country=AZ)
    with pytest.raises(ReceiptRuleError) as info:  # the same line in Russia breaks 1214's rule
        check_receipt(
            replace(top_up, items=(replace(item, vat=VatRate.VAT22, name="Пополнение"),)), on=DAY
        )
    assert info.value.code == "vat_rate_not_allowed"
    assert item.subject is PaymentSubject.PAYMENT


def test_country_rules_az_refuses_russian_requisites() -> None:
    """A cashier INN (1203) or a correction (FD 31) on an AZ receipt: requisite_not_in_country."""
    receipt = goods_receipt((500, VatRate.VAT18))
    with_inn = replace(receipt, cashier=Cashier(name="Aliyeva N.", inn="500100732259"))
    with pytest.raises(ReceiptRuleError) as info:
        check_receipt(with_inn, on=DAY, country=AZ)
    assert (info.value.code, info.value.field) == ("requisite_not_in_country", "cashier.inn")
    assert "Azerbaijan (AZ)" in info.value.reason
    late = replace(
        receipt,
        cashier=AZ_CASHIER,
        correction=Correction(type=CorrectionType.SELF, settled_on=DAY),
    )
    with pytest.raises(ReceiptRuleError) as corr:
        check_receipt(late, on=DAY, country=AZ)
    assert (corr.value.code, corr.value.field) == ("requisite_not_in_country", "paid_at")
    in_russia = replace(goods_receipt((500, VatRate.VAT22)), cashier=with_inn.cashier)
    check_receipt(in_russia, on=DAY)  # an INN is fine in Russia


def test_country_rules_contact_is_fine_in_both() -> None:
    """The buyer's contact is no Russian-only requisite."""
    ru = replace(goods_receipt((500, VatRate.VAT22)), customer_contact="+994501234567")
    check_receipt(ru, on=DAY)
    az = replace(goods_receipt((500, VatRate.VAT18)), cashier=AZ_CASHIER, customer_contact="a@b.az")
    check_receipt(az, on=DAY, country=AZ)
