"""Where the agent fiscalises: one profile per country (docs/country-profiles.md).

A profile says what a receipt may carry in that country and which registers issue it: the
currency and its minor unit, the VAT rates a register there accepts (with the day a rate
stops being in force), whether receipts carry the Russian FFD requisites (tax system 1055,
subject and method 1212/1214, the cashier's INN 1203, correction receipts for late
payments), the charset a register prints item names in, and the ``[register] protocol``
names that fiscalise there. ``country = "RU" | "AZ"`` in the agent's config picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final

from agent.domain.receipt import VatRate

__all__ = [
    "AZ",
    "COUNTRIES",
    "RU",
    "VAT22_SINCE",
    "CountryProfile",
    "RateTerm",
    "UnknownCountry",
    "country_profile",
]

VAT22_SINCE: Final = date(2026, 1, 1)
"""22 % replaced 20 % in Russia on this day (425-FZ; docs/fiscal-law-notes.md §1.4)."""


@dataclass(frozen=True, slots=True)
class RateTerm:
    """How long a VAT rate is in force: ``until`` is the first day it is not, if any.

    ``replaced_by`` is the rate to send instead from that day.
    """

    until: date | None = None
    replaced_by: VatRate | None = None


_ALWAYS: Final = RateTerm()


@dataclass(frozen=True, slots=True, kw_only=True)
class CountryProfile:
    """What fiscalising means in one country; see the module's docstring."""

    code: str  # ISO 3166 alpha-2: "RU", "AZ"
    name: str  # in English, for messages: "Russia", "Azerbaijan"
    currency: str  # ISO 4217: "RUB", "AZN"
    minor_per_unit: int  # 100 kopecks a rouble, 100 qəpik a manat
    minor_unit: str  # "kopeck", "qəpik"
    vat_rates: Mapping[VatRate, RateTerm]  # every rate a register there accepts, in offer order
    ffd_requisites: bool  # tags 1055, 1212/1214, 1203 and correction receipts (FD 31)
    item_name_charset: str | None  # the charset item names must fit; None: any text
    protocols: frozenset[str]  # the [register] protocol names that fiscalise here

    def accepts(self, rate: VatRate) -> bool:
        """The country's registers take ``rate`` (on some day: see :meth:`term`)."""
        return rate in self.vat_rates

    def term(self, rate: VatRate) -> RateTerm | None:
        """How long ``rate`` is in force here; None when the country has no such rate."""
        return self.vat_rates.get(rate)

    def rate_codes(self, *, on: date | None = None) -> tuple[str, ...]:
        """The contract's names of the rates accepted (on ``on``, when given), in order."""
        return tuple(
            rate.code
            for rate, term in self.vat_rates.items()
            if on is None or term.until is None or on < term.until
        )

    def not_accepted(self, rate: VatRate, *, on: date | None = None) -> str:
        """The message for a rate the country has not: the rate, the country, the rates to use.

        With ``on``, only the rates in force that day are offered.
        """
        return (
            f"{rate.code} is not a VAT rate in {self.name} ({self.code}):"
            f" use {_or_list(self.rate_codes(on=on))}"
        )


def _or_list(names: tuple[str, ...]) -> str:
    """``a, b or c``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


RU: Final = CountryProfile(
    code="RU",
    name="Russia",
    currency="RUB",
    minor_per_unit=100,
    minor_unit="kopeck",
    vat_rates=MappingProxyType(
        {
            VatRate.VAT22: _ALWAYS,
            VatRate.VAT10: _ALWAYS,
            VatRate.VAT5: _ALWAYS,
            VatRate.VAT7: _ALWAYS,
            VatRate.VAT0: _ALWAYS,
            VatRate.NONE: _ALWAYS,
            VatRate.VAT22_122: _ALWAYS,
            VatRate.VAT10_110: _ALWAYS,
            VatRate.VAT5_105: _ALWAYS,
            VatRate.VAT7_107: _ALWAYS,
            VatRate.VAT20: RateTerm(VAT22_SINCE, VatRate.VAT22),
            VatRate.VAT20_120: RateTerm(VAT22_SINCE, VatRate.VAT22_122),
        }
    ),
    ffd_requisites=True,
    item_name_charset="cp1251",  # FF46 carries the name in cp1251 (docs/shtrih-wire-notes.md)
    protocols=frozenset({"shtrih", "atol"}),
)
"""Russia: an FN behind a Shtrih-M or ATOL register, FFD 1.2 requisites, 54-FZ."""

AZ: Final = CountryProfile(
    code="AZ",
    name="Azerbaijan",
    currency="AZN",
    minor_per_unit=100,
    minor_unit="qəpik",
    # 18 % is the standard rate; 0 % and exempt ("ƏDV-dən azad") sales exist. VAT0 and NONE
    # are reused: "vat0" is 0 % and "none" is "without VAT" (exempt) in both countries.
    vat_rates=MappingProxyType(
        {VatRate.VAT18: _ALWAYS, VatRate.VAT0: _ALWAYS, VatRate.NONE: _ALWAYS}
    ),
    ffd_requisites=False,
    item_name_charset=None,  # the e-kassa takes JSON text (UTF-8)
    protocols=frozenset({"smartone"}),
)
"""Azerbaijan: an e-kassa cash box (SmartOne) that signs with the tax authority itself."""

COUNTRIES: Final[Mapping[str, CountryProfile]] = MappingProxyType({"RU": RU, "AZ": AZ})
"""Every profile by its code."""


class UnknownCountry(KeyError):
    """No profile has this code."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"no country profile {code!r}: use {_or_list(tuple(COUNTRIES))}")

    def __str__(self) -> str:
        return str(self.args[0])


def country_profile(code: str) -> CountryProfile:
    """The profile of ``code`` (``"RU"``, ``"AZ"``); raises :class:`UnknownCountry`."""
    try:
        return COUNTRIES[code]
    except KeyError:
        raise UnknownCountry(code) from None
