"""The simulated register's configuration and state: frozen dataclasses, and their JSON form.

Pure: no I/O. ``DeviceState`` is the snapshot the store serializes (its durable part) and
from which a :class:`firmware_sim.device.Device` is rebuilt after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import Enum
from typing import Any

from firmware_sim.ffd import VAT_RATE_CODES

__all__ = [
    "DEFAULT_TAX_TABLE",
    "MSK",
    "PAYMENT_TYPES",
    "RECEIPT_TYPES",
    "CashMovement",
    "DeviceConfig",
    "DeviceState",
    "DocType",
    "DocumentTags",
    "FnDocument",
    "Item",
    "Mark",
    "OpenReceipt",
    "ReceiptKind",
    "ShiftCounters",
    "SignTotals",
    "TableKey",
    "TableValue",
    "TaxRate",
    "VatRow",
    "format_money",
    "tape_entry",
]

MSK = timezone(timedelta(hours=3), "MSK")
"""The register's default time zone (Moscow, UTC+3, no DST)."""

PAYMENT_TYPES = 16
"""FF45 carries 16 payment sums: 1 cash, 2…13 electronic, 14 prepayment, 15 credit, 16 other."""

CASH, PREPAID, CREDIT, PROVISION = 1, 14, 15, 16


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxRate:
    """One row of the register's tax table; FF46's tax byte is ``index`` (1-based)."""

    index: int
    code: str  # docs/contract.md vat name: "vat22", "none", "vat10_110", ...
    name: str  # as printed: "НДС 22%"


DEFAULT_TAX_TABLE: tuple[TaxRate, ...] = (
    TaxRate(index=1, code="vat22", name="НДС 22%"),
    TaxRate(index=2, code="vat10", name="НДС 10%"),
    TaxRate(index=3, code="vat0", name="НДС 0%"),
    TaxRate(index=4, code="none", name="без НДС"),
    TaxRate(index=5, code="vat22_122", name="НДС 22/122"),
    TaxRate(index=6, code="vat10_110", name="НДС 10/110"),
    TaxRate(index=7, code="vat5", name="НДС 5%"),
    TaxRate(index=8, code="vat7", name="НДС 7%"),
    TaxRate(index=9, code="vat5_105", name="НДС 5/105"),
    TaxRate(index=10, code="vat7_107", name="НДС 7/107"),
    TaxRate(index=11, code="vat20", name="НДС 20%"),
    TaxRate(index=12, code="vat20_120", name="НДС 20/120"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceConfig:
    """What is fixed about one simulated register: its identity, FN and tax table."""

    fn_serial: str  # 16 digits (tag 1041)
    serial: str  # the register's factory number, digits
    fn_valid_until: date
    model_name: str = "ШТРИХ-М-01Ф"
    print_time_s: float = 0.0  # time spent "printing" after a document (submode 5)
    tax_rates: tuple[TaxRate, ...] = DEFAULT_TAX_TABLE
    tz: tzinfo = MSK  # the register's wall clock zone
    inn: str = "7700000000"  # the user's INN, shown by 0x11

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{16}", self.fn_serial):
            raise ValueError(f"fn_serial must be 16 digits, got {self.fn_serial!r}")
        if not re.fullmatch(r"\d{1,14}", self.serial):
            raise ValueError(f"serial must be 1..14 digits, got {self.serial!r}")
        if not re.fullmatch(r"\d{10}|\d{12}", self.inn):
            raise ValueError(f"inn must be 10 or 12 digits, got {self.inn!r}")
        if self.print_time_s < 0:
            raise ValueError("print_time_s must not be negative")
        if not self.tax_rates or any(
            rate.index != pos for pos, rate in enumerate(self.tax_rates, start=1)
        ):
            raise ValueError("tax_rates must be non-empty and indexed 1, 2, 3, ... in order")
        unknown = sorted({rate.code for rate in self.tax_rates} - VAT_RATE_CODES.keys())
        if unknown:
            raise ValueError(f"tax_rates codes {unknown} have no tag 1199 value")


class DocType(Enum):
    """Fiscal document types kept on the FN tape; the value is the tape's ``type``."""

    REGISTRATION = "registration"
    OPEN_SHIFT = "open_shift"
    RECEIPT = "receipt"
    CLOSE_SHIFT = "close_shift"
    CORRECTION = "correction"  # a correction receipt (FFD form 31)
    CALCULATION_STATE = "calculation_state"  # FF38: отчёт о текущем состоянии расчётов

    @property
    def fn_code(self) -> int:
        """The FD type number FF0A reports (§2.9)."""
        return _FN_CODES[self]


_FN_CODES = {
    DocType.REGISTRATION: 1,
    DocType.OPEN_SHIFT: 2,
    DocType.RECEIPT: 3,
    DocType.CLOSE_SHIFT: 5,
    DocType.CORRECTION: 31,  # the FFD form code; what a real FF0A/FF3A gives is unconfirmed
    DocType.CALCULATION_STATE: 21,
}

RECEIPT_TYPES = frozenset({DocType.RECEIPT, DocType.CORRECTION})
"""Documents with lines, payments and a calculation sign."""


class ReceiptKind(Enum):
    """Calculation sign of a receipt (tag 1054): 1 приход = sale, 2 возврат прихода = refund."""

    SALE = "sale"
    REFUND = "refund"

    @property
    def op_index(self) -> int:
        """The register-table operation index: 0 sale, 2 sale return (§2.10)."""
        return 0 if self is ReceiptKind.SALE else 2

    @property
    def sign(self) -> int:
        """Tag 1054 value."""
        return 1 if self is ReceiptKind.SALE else 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One receipt line as the FN records it."""

    name: str
    qty_micro: int  # quantity x 10^6
    price: int  # kopecks
    amount: int  # kopecks, price x qty rounded
    tax_index: int  # 0 = no tax group (classic line with no tax byte)
    vat: str  # the tax table code, "none" when no group was given
    department: int
    method: int | None = None  # tag 1214 (FF46 only)
    subject: int | None = None  # tag 1212 (FF46 only)
    tax_sum: int | None = None  # tag 1200: the host's FF46 tax sum, kept in tax mode 1 only


@dataclass(frozen=True, slots=True, kw_only=True)
class VatRow:
    """One tax row's part of a receipt or of a shift: the turnover and the VAT in it.

    ``index`` is the row of the tax table (table 6, 1-based), ``code`` its contract code.
    ``rate`` (hundredths of a percent) is the rate a receipt's VAT was computed at; None in
    tax mode 1 (the host's sums) and in shift totals (the rate may change in a shift).
    """

    index: int
    code: str
    turnover: int  # kopecks
    vat: int  # kopecks
    rate: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    """Tag 1084, the user requisite: the agent writes its request id here (1085 "CRM ID")."""

    name: str  # 1085, at most 64 characters
    value: str  # 1086, at most 256 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentTags:
    """User tags written with FF0C. The buyer contact (1008) is kept only as a flag."""

    cashier: str | None = None  # 1021
    cashier_inn: str | None = None  # 1203
    has_contact: bool = False  # 1008 was given; its value is never stored
    mark: Mark | None = None  # 1084
    correction_type: int | None = None  # 1173 (correction receipts)
    correction_date: date | None = None  # 1178 inside 1174 (correction receipts)
    other: tuple[int, ...] = ()  # other tags seen, numbers only

    @property
    def is_empty(self) -> bool:
        """True when no tag was written."""
        return self == DocumentTags()


@dataclass(frozen=True, slots=True, kw_only=True)
class SignTotals:
    """Money by payment form and receipt count for one calculation sign in a shift."""

    cash: int = 0
    card: int = 0  # payment types 2..13 ("electronic")
    prepaid: int = 0  # type 14
    other: int = 0  # types 15, 16
    count: int = 0

    @property
    def total(self) -> int:
        """All payment forms together."""
        return self.cash + self.card + self.prepaid + self.other


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftCounters:
    """The shift's counters as the close-shift document (Z report) carries them."""

    sales: SignTotals
    refunds: SignTotals
    cash_in: int
    cash_out: int
    cash_in_drawer: int
    receipts: int
    documents: int  # FDs of the shift, the open- and close-shift reports included
    first_fd: int
    last_fd: int
    sales_vat: tuple[VatRow, ...] = ()  # the shift's tax registers, rows with a turnover
    refunds_vat: tuple[VatRow, ...] = ()
    corrections: SignTotals = SignTotals()  # tag 1133: correction receipts, sign приход
    correction_refunds: SignTotals = SignTotals()  # tag 1133: sign возврат прихода


@dataclass(frozen=True, slots=True, kw_only=True)
class OfdBacklog:
    """What a calculation-state report records: FDs without an OFD ticket when it was made."""

    count: int  # tag 1097
    first_fd: int  # tag 1116; 0 when nothing was unsent
    first_at: datetime | None  # tag 1098; None when nothing was unsent


@dataclass(frozen=True, slots=True, kw_only=True)
class FnDocument:
    """One fiscal document on the FN tape."""

    fd: int
    type: DocType
    fp: int
    issued_at: datetime  # register clock, aware
    shift: int
    number: int | None = None  # receipt number in the shift (1042)
    kind: ReceiptKind | None = None
    total: int | None = None
    payments: tuple[int, ...] = ()  # 16 sums by payment type; cash is net of change
    change: int = 0
    items: tuple[Item, ...] = ()
    tags: DocumentTags = field(default_factory=DocumentTags)
    tax_system: int | None = None  # tag 1055 bit (FF45 only)
    counters: ShiftCounters | None = None  # close-shift only
    vat: tuple[VatRow, ...] = ()  # receipt only: rows present, in row order; () before VAT
    backlog: OfdBacklog | None = None  # calculation-state report only


@dataclass(frozen=True, slots=True, kw_only=True)
class CashMovement:
    """A cash-in (0x50) or cash-out (0x51): a document, but not a fiscal one (no FD)."""

    number: int  # document through-number
    direction: str  # "in" | "out"
    amount: int
    at: datetime
    shift: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenReceipt:
    """The receipt in progress; lost on a power cut, never persisted."""

    kind: ReceiptKind
    operator: int
    items: tuple[Item, ...] = ()
    tags: DocumentTags = field(default_factory=DocumentTags)
    lines: tuple[str, ...] = ()  # 0x17 text printed inside the receipt
    is_correction: bool = False  # begun with FF35: a correction receipt

    @property
    def total(self) -> int:
        """Sum of the lines."""
        return sum(item.amount for item in self.items)


TableKey = tuple[int, int, int]
"""A settings-table field: (table, row, field), as 0x1E/0x1F address it."""

TableValue = int | str
"""A table field's value: a number, or a string field's text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    """A snapshot of the register and its FN.

    Everything but ``open_receipt`` and ``has_paper`` is durable: the store writes it, and a
    restarted simulator rebuilds the device from it.
    """

    clock_offset_s: float = 0.0  # register clock = host clock + offset
    shift_number: int = 0  # the open shift, or the last closed one
    is_shift_open: bool = False
    shift_opened_at: datetime | None = None
    shift_first_fd: int = 0
    receipts_in_shift: int = 0
    documents: tuple[FnDocument, ...] = ()
    cash_movements: tuple[CashMovement, ...] = ()
    money: tuple[tuple[int, int], ...] = ()  # (register, value), non-zero only, sorted
    operating: tuple[tuple[int, int], ...] = ()
    ofd_acked_fd: int = 0  # FDs up to this number have an OFD ticket
    tables: tuple[tuple[TableKey, TableValue], ...] = ()  # table fields written, sorted
    open_receipt: OpenReceipt | None = None
    has_paper: bool = True

    @property
    def last_fd(self) -> int:
        """The last fiscal document number, 0 before the first."""
        return self.documents[-1].fd if self.documents else 0

    def money_register(self, number: int) -> int:
        """A money register's value (0x1A)."""
        return dict(self.money).get(number, 0)

    def operating_register(self, number: int) -> int:
        """An operating register's value (0x1B)."""
        return dict(self.operating).get(number, 0)


def format_money(kopecks: int) -> str:
    """Kopecks as a decimal string with two places: 15000 -> "150.00"."""
    sign = "-" if kopecks < 0 else ""
    whole, frac = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{frac:02d}"


def _format_qty(qty_micro: int) -> str:
    whole, frac = divmod(qty_micro, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".") if frac else str(whole)


def _tags_json(tags: DocumentTags) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if tags.cashier is not None:
        out["1021"] = tags.cashier
    if tags.cashier_inn is not None:
        out["1203"] = tags.cashier_inn
    if tags.correction_type is not None:
        out["1173"] = tags.correction_type
    if tags.correction_date is not None:
        out["1174"] = {"1178": tags.correction_date.isoformat()}
    if tags.has_contact:
        out["has_contact"] = True
    return out


def _totals_tape(totals: SignTotals) -> dict[str, Any]:
    return {
        "cash": format_money(totals.cash),
        "card": format_money(totals.card),
        "prepaid": format_money(totals.prepaid),
        "other": format_money(totals.other),
        "count": totals.count,
    }


def _vat_tape(rows: tuple[VatRow, ...]) -> dict[str, str]:
    """VAT by contract code as money strings; rows sharing a code are added up."""
    by_code: dict[str, int] = {}
    for row in rows:
        by_code[row.code] = by_code.get(row.code, 0) + row.vat
    return {code: format_money(vat) for code, vat in by_code.items()}


def tape_entry(doc: FnDocument) -> dict[str, Any]:
    """One line of ``firmware-sim tape``: the public view of a fiscal document."""
    entry: dict[str, Any] = {
        "fd": doc.fd,
        "type": doc.type.value,
        "shift": doc.shift,
        "issued_at": doc.issued_at.isoformat(),
        "fp": doc.fp,
    }
    if doc.type in RECEIPT_TYPES:
        assert doc.kind is not None
        assert doc.total is not None
        pays = doc.payments or (0,) * PAYMENT_TYPES
        payments = {
            "cash": format_money(pays[CASH - 1]),
            "card": format_money(sum(pays[1 : PREPAID - 1])),
            "prepaid": format_money(pays[PREPAID - 1]),
        }
        if pays[CREDIT - 1]:
            payments["credit"] = format_money(pays[CREDIT - 1])
        if pays[PROVISION - 1]:
            payments["provision"] = format_money(pays[PROVISION - 1])
        entry |= {
            "kind": doc.kind.value,
            "total": format_money(doc.total),
            "number": doc.number,
            "payments": payments,
            "change": format_money(doc.change),
            "items": [
                {
                    "name": item.name,
                    "qty": _format_qty(item.qty_micro),
                    "price": format_money(item.price),
                    "amount": format_money(item.amount),
                    "vat": item.vat,
                }
                for item in doc.items
            ],
            "vat": _vat_tape(doc.vat),
        }
        if doc.tax_system is not None:
            entry["tax_system"] = doc.tax_system
        if doc.tags.correction_date is not None:
            entry["settled_on"] = doc.tags.correction_date.isoformat()
    if doc.tags.mark is not None:
        entry["mark"] = doc.tags.mark.value
        entry["mark_name"] = doc.tags.mark.name
    if doc.backlog is not None:
        entry["backlog"] = {
            "unsent_docs": doc.backlog.count,
            "first_unsent_fd": doc.backlog.first_fd or None,
            "first_unsent_at": None
            if doc.backlog.first_at is None
            else doc.backlog.first_at.isoformat(),
        }
    if doc.counters is not None:
        c = doc.counters
        entry["counters"] = {
            "sales": _totals_tape(c.sales),
            "refunds": _totals_tape(c.refunds),
            "cash_in": format_money(c.cash_in),
            "cash_out": format_money(c.cash_out),
            "cash_in_drawer": format_money(c.cash_in_drawer),
            "receipts": c.receipts,
            "documents": c.documents,
            "first_fd": c.first_fd,
            "last_fd": c.last_fd,
            "vat": {"sales": _vat_tape(c.sales_vat), "refunds": _vat_tape(c.refunds_vat)},
            "corrections": {  # tag 1133
                "count": c.corrections.count + c.correction_refunds.count,  # 1144
                "sales": _totals_tape(c.corrections),
                "refunds": _totals_tape(c.correction_refunds),
            },
        }
    entry["tags"] = _tags_json(doc.tags)
    return entry
