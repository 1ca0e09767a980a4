"""The rules a receipt must satisfy before it may reach the register.

They mirror what the register and the FN refuse (docs/shtrih-wire-notes.md §2.11,
docs/fiscal-law-notes.md §1.2), so bad input is rejected at once with a clear reason
instead of being sent and bounced, and never retried.

They apply in the country of a :class:`~agent.domain.country.CountryProfile` (Russia by
default): a VAT rate the country has not is ``vat_rate_not_in_country``; the Russian FFD
requisites on a receipt of a country without them are ``requisite_not_in_country``, and the
rules about them (advance rates, the advance's subject) apply only where they exist
(docs/country-profiles.md).
"""

from __future__ import annotations

import re
from datetime import date

from agent.domain.country import RU, VAT22_SINCE, CountryProfile
from agent.domain.errors import ReceiptRuleError
from agent.domain.receipt import (
    ADVANCE_METHODS,
    CALCULATED_RATES,
    PaymentMethod,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    VatRate,
)

__all__ = [
    "MAX_AMOUNT_KOPECKS",
    "MAX_ITEMS",
    "MAX_ITEM_NAME_CHARS",
    "RETIRED_RATES",
    "VAT22_SINCE",
    "check_receipt",
]

MAX_ITEMS = 100
"""Operations per receipt we allow; the register refuses past its own limit (0x94)."""
MAX_ITEM_NAME_CHARS = 128
"""FF46 carries at most 128 bytes of cp1251 name."""
MAX_AMOUNT_KOPECKS = 2**40 - 1
"""Money fields on the wire are 5 bytes."""
MAX_CONTACT_CHARS = 64
"""Tag 1008 is a string of at most 64 characters."""
MAX_CASHIER_CHARS = 64
"""Tag 1021 is a string of at most 64 characters."""

RETIRED_RATES: dict[VatRate, VatRate] = {
    rate: term.replaced_by
    for rate, term in RU.vat_rates.items()
    if term.until == VAT22_SINCE and term.replaced_by is not None
}
"""Rates no Russian receipt may carry from :data:`VAT22_SINCE`, and the rate that replaced each."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+\d{10,15}$")
_INN = re.compile(r"^\d{10}(\d{2})?$")
_ADVANCE_RATES = CALCULATED_RATES | {VatRate.NONE, VatRate.VAT0}


def check_receipt(receipt: Receipt, *, on: date, country: CountryProfile = RU) -> None:
    """Raise :class:`ReceiptRuleError` for the first rule the receipt breaks.

    ``on`` is the day the receipt is issued (the register's date): the VAT rates in force
    depend on it. ``country`` is where it is issued: its VAT rates and requisites.
    """
    _check_requisites(receipt, country)
    _check_items(receipt, on=on, country=country)
    total = receipt.total
    if total <= 0:
        raise ReceiptRuleError("zero_total", "items", "the receipt total must be above zero")
    if total > MAX_AMOUNT_KOPECKS:
        raise ReceiptRuleError("amount_out_of_range", "items", "the receipt total is too large")
    pay = receipt.payments
    for name, value in (("cash", pay.cash), ("card", pay.card), ("prepaid", pay.prepaid)):
        if value < 0 or value > MAX_AMOUNT_KOPECKS:
            raise ReceiptRuleError("amount_out_of_range", f"payments.{name}", "out of range")
    if pay.card + pay.prepaid > total:
        raise ReceiptRuleError(
            "non_cash_above_total",
            "payments",
            "card and prepaid together exceed the total; change is given only from cash",
        )
    if pay.total < total:
        raise ReceiptRuleError(
            "payments_below_total", "payments", "the payments are less than the receipt total"
        )
    _check_case(receipt)
    _check_people(receipt)


def _check_requisites(receipt: Receipt, country: CountryProfile) -> None:
    """The Russian FFD requisites a receipt of a country without them must not carry.

    The tax system comes from the config (none there: ``[tax]`` is refused), subject and
    method from the category; they are the agent's, not the CRM's, and a driver of such a
    country ignores subject and method. A cashier INN (tag 1203) and a correction (FD 31)
    would be printed as something they are not: they are refused. The buyer's contact is
    fine everywhere.
    """
    if country.ffd_requisites:
        return
    if receipt.cashier.inn is not None:
        raise ReceiptRuleError(
            "requisite_not_in_country",
            "cashier.inn",
            f"a cashier INN (tag 1203) is a Russian requisite; receipts in {country.name}"
            f" ({country.code}) carry none: leave it out",
        )
    if receipt.correction is not None:
        raise ReceiptRuleError(
            "requisite_not_in_country",
            "paid_at",
            f"correction receipts (FD 31) do not exist in {country.name} ({country.code}):"
            " a late payment is printed as an ordinary receipt",
        )


def _check_case(receipt: Receipt) -> None:
    """What each kind of club payment may carry (docs/fiscal-law-notes.md §1.7)."""
    pay = receipt.payments
    if receipt.kind is ReceiptKind.REFUND and pay.total > receipt.total:
        raise ReceiptRuleError(
            "refund_with_change",
            "payments",
            "a refund pays out exactly its total: there is no change on a refund",
        )
    is_advance = any(item.method in ADVANCE_METHODS for item in receipt.items)
    if is_advance and pay.prepaid > 0:
        raise ReceiptRuleError(
            "prepaid_advance",
            "payments.prepaid",
            "a top-up or prepayment must bring in money: it cannot be paid from the prepaid"
            " balance (tag 1215 is the offset of an earlier advance)",
        )


def _check_items(receipt: Receipt, *, on: date, country: CountryProfile) -> None:
    if not receipt.items:
        raise ReceiptRuleError("no_items", "items", "a receipt needs at least one item")
    if len(receipt.items) > MAX_ITEMS:
        raise ReceiptRuleError("too_many_items", "items", f"at most {MAX_ITEMS} items")
    for index, item in enumerate(receipt.items):
        where = f"items.{index}"
        if not item.name.strip() or len(item.name) > MAX_ITEM_NAME_CHARS:
            raise ReceiptRuleError(
                "bad_item_name", f"{where}.name", f"1..{MAX_ITEM_NAME_CHARS} characters"
            )
        _check_charset(item.name, f"{where}.name", country.item_name_charset)
        if item.qty <= 0:
            raise ReceiptRuleError("bad_quantity", f"{where}.qty", "must be above zero")
        if item.price < 0 or item.price > MAX_AMOUNT_KOPECKS:
            raise ReceiptRuleError("amount_out_of_range", f"{where}.price", "out of range")
        _check_rate_in_force(item.vat, f"{where}.vat", on=on, country=country)
        if country.ffd_requisites:
            _check_line_vat(item.vat, item.method, item.subject, where)


def _check_charset(name: str, where: str, charset: str | None) -> None:
    if charset is None:
        return
    try:
        name.encode(charset)
    except UnicodeEncodeError as exc:
        raise ReceiptRuleError(
            "bad_item_name", where, f"the register prints only {charset} characters"
        ) from exc


def _check_rate_in_force(vat: VatRate, where: str, *, on: date, country: CountryProfile) -> None:
    """The country has the rate, and it is in force on ``on``."""
    term = country.term(vat)
    if term is None:
        raise ReceiptRuleError("vat_rate_not_in_country", where, country.not_accepted(vat, on=on))
    if term.until is not None and on >= term.until:
        instead = f": send {term.replaced_by.code}" if term.replaced_by is not None else ""
        raise ReceiptRuleError(
            "vat_rate_retired",
            where,
            f"{vat.code} is no longer in force since {term.until.isoformat()}{instead}",
        )


def _check_line_vat(
    vat: VatRate, method: PaymentMethod, subject: PaymentSubject, where: str
) -> None:
    """The rate and subject the line's payment method (tag 1214) allows."""
    if method in ADVANCE_METHODS and vat not in _ADVANCE_RATES:
        raise ReceiptRuleError(
            "vat_rate_not_allowed",
            f"{where}.vat",
            "an advance or prepayment takes a calculated rate (vat22_122, vat10_110, ...)"
            " or none/vat0",
        )
    if method not in ADVANCE_METHODS and vat in CALCULATED_RATES:
        raise ReceiptRuleError(
            "vat_rate_not_allowed",
            f"{where}.vat",
            f"a calculated rate ({vat.code}) belongs only on an advance or prepayment line;"
            " a full settlement takes vat22, vat10, vat5, vat7, vat0 or none",
        )
    if method is PaymentMethod.ADVANCE and subject is not PaymentSubject.PAYMENT:
        raise ReceiptRuleError(
            "subject_not_allowed",
            f"{where}.subject",
            "an advance (a balance top-up) is a payment (tag 1212 = 10): its subject is fixed",
        )


def _check_people(receipt: Receipt) -> None:
    contact = receipt.customer_contact
    if contact is not None and (
        len(contact) > MAX_CONTACT_CHARS or not (_EMAIL.match(contact) or _PHONE.match(contact))
    ):
        raise ReceiptRuleError(
            "bad_customer_contact",
            "customer",
            "an e-mail address or a phone as +digits, at most 64 characters",
        )
    name = receipt.cashier.name
    if not name.strip() or len(name) > MAX_CASHIER_CHARS:
        raise ReceiptRuleError("bad_cashier", "cashier.name", "1..64 characters")
    inn = receipt.cashier.inn
    if inn is not None and not _INN.match(inn):
        raise ReceiptRuleError("bad_cashier", "cashier.inn", "10 or 12 digits")
