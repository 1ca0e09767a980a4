"""Receipts as the fiscal law sees them (docs/fiscal-law-notes.md §1).

Enum values are the FFD tag values where a tag exists, so a driver can put them on the wire
as they are; the contract's strings map onto them in the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, IntEnum, IntFlag

from agent.domain.money import Kopecks, Micros, line_amount

__all__ = [
    "CALCULATED_RATES",
    "CATEGORY_DEFAULTS",
    "Cashier",
    "Category",
    "Correction",
    "CorrectionType",
    "Item",
    "PaymentMethod",
    "PaymentSubject",
    "Payments",
    "Receipt",
    "ReceiptKind",
    "TaxSystem",
    "VatRate",
]


class ReceiptKind(Enum):
    """Calculation sign, tag 1054. Value: the tag's byte."""

    SALE = 1  # приход
    REFUND = 2  # возврат прихода

    @property
    def code(self) -> str:
        """The contract's name: ``sale`` or ``refund``."""
        return self.name.lower()


class VatRate(Enum):
    """Item VAT rate, tag 1199. Value: the tag's byte (docs/fiscal-law-notes.md §1.4).

    Rates of other countries (docs/country-profiles.md) have no FFD byte: their values start
    at 256, which no tag byte can hold, so a document read back never decodes to one and a
    Russian driver refuses them (``VatRateNotSupported``).
    """

    VAT20 = 1
    VAT10 = 2
    VAT20_120 = 3
    VAT10_110 = 4
    VAT0 = 5
    NONE = 6
    VAT5 = 7
    VAT7 = 8
    VAT5_105 = 9
    VAT7_107 = 10
    VAT22 = 11
    VAT22_122 = 12
    VAT18 = 256  # Azerbaijan's 18 %: no FFD byte, never on a Russian register

    @property
    def code(self) -> str:
        """The contract's name: ``vat22``, ``vat10_110``, ``none``..."""
        return self.name.lower()


CALCULATED_RATES = frozenset(
    {VatRate.VAT20_120, VatRate.VAT10_110, VatRate.VAT5_105, VatRate.VAT7_107, VatRate.VAT22_122}
)
"""Rates computed as x/(100+x) of the amount: the ones an advance or prepayment takes."""


class PaymentMethod(IntEnum):
    """Payment method, tag 1214 (docs/fiscal-law-notes.md §1.6)."""

    FULL_PREPAYMENT = 1
    PREPAYMENT = 2
    ADVANCE = 3
    FULL_SETTLEMENT = 4
    PARTIAL_SETTLEMENT_AND_CREDIT = 5
    CREDIT_TRANSFER = 6
    CREDIT_PAYMENT = 7


ADVANCE_METHODS = frozenset(
    {PaymentMethod.FULL_PREPAYMENT, PaymentMethod.PREPAYMENT, PaymentMethod.ADVANCE}
)


class PaymentSubject(IntEnum):
    """Subject of calculation, tag 1212 (docs/fiscal-law-notes.md §1.5); the values a club uses."""

    COMMODITY = 1
    EXCISE = 2
    JOB = 3
    SERVICE = 4
    PAYMENT = 10
    AGENT_COMMISSION = 11
    COMPOSITE = 12
    ANOTHER = 13
    DEPOSIT = 19


class TaxSystem(IntFlag):
    """Tax system, tag 1055 bit values (docs/fiscal-law-notes.md §1.3). One bit per receipt."""

    OSN = 1
    USN_INCOME = 2
    USN_INCOME_OUTCOME = 4
    ESHN = 16
    PATENT = 32


class Category(Enum):
    """What the CRM sold; selects the tax system from config and the default 1212/1214."""

    TOP_UP = "top_up"
    SERVICE = "service"
    GOODS = "goods"


CATEGORY_DEFAULTS: dict[Category, tuple[PaymentSubject, PaymentMethod]] = {
    # A balance top-up usable for any service: the service is not known yet -> advance.
    Category.TOP_UP: (PaymentSubject.PAYMENT, PaymentMethod.ADVANCE),
    # A session or other service rendered now -> full settlement of a service.
    Category.SERVICE: (PaymentSubject.SERVICE, PaymentMethod.FULL_SETTLEMENT),
    # Bar and shop items -> full settlement of a commodity.
    Category.GOODS: (PaymentSubject.COMMODITY, PaymentMethod.FULL_SETTLEMENT),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One receipt line (tag 1059)."""

    name: str
    qty: Micros
    price: Kopecks
    vat: VatRate
    subject: PaymentSubject
    method: PaymentMethod

    @property
    def amount(self) -> Kopecks:
        """Price x quantity, rounded half up to the kopeck."""
        return line_amount(self.price, self.qty)


@dataclass(frozen=True, slots=True, kw_only=True)
class Payments:
    """How the customer paid. Cash may exceed the total: the rest is change."""

    cash: Kopecks = Kopecks(0)
    card: Kopecks = Kopecks(0)  # electronic, tag 1081
    prepaid: Kopecks = Kopecks(0)  # offset of an earlier advance, tag 1215

    @property
    def total(self) -> Kopecks:
        """Everything tendered."""
        return Kopecks(self.cash + self.card + self.prepaid)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cashier:
    """The person on the receipt: tags 1021 (name) and 1203 (INN)."""

    name: str
    inn: str | None = None


class CorrectionType(IntEnum):
    """Correction type, tag 1173 (FFD 1.2). Value: the tag's byte."""

    SELF = 0  # самостоятельно: the user found the missing receipt itself
    BY_ORDER = 1  # по предписанию: the tax authority ordered it


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """What makes a receipt a correction receipt (FD type 31, docs/corrections.md).

    ``settled_on`` is the date of the settlement the correction makes up for (tag 1178
    inside the basis 1174): the payment's date on the register's clock zone.
    """

    type: CorrectionType
    settled_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A receipt ready for the register: every value resolved, every rule checked."""

    kind: ReceiptKind
    category: Category
    tax_system: TaxSystem | None  # tag 1055; None where the country has none (AZ)
    items: tuple[Item, ...]
    payments: Payments
    cashier: Cashier
    customer_contact: str | None = None  # tag 1008: e-mail or +phone; never logged
    paid_at: datetime | None = None  # when the CRM took the payment (aware); None: now
    correction: Correction | None = None  # decided when printed: a correction receipt
    parent_doc_id: str | None = None
    """A refund's sale as the register names it (SmartOne's ``fiscalID``), when known; a
    register that links refunds by its own document id sends it (None: unlinked)."""

    @property
    def total(self) -> Kopecks:
        """Sum of the item amounts (tag 1020)."""
        return Kopecks(sum(item.amount for item in self.items))

    @property
    def change(self) -> Kopecks:
        """What goes back to the customer; only ever out of cash."""
        return Kopecks(max(0, self.payments.total - self.total))

    @property
    def cash_kept(self) -> Kopecks:
        """Cash that stays in the drawer (tag 1031)."""
        return Kopecks(self.payments.cash - self.change)
