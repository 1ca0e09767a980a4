"""Contract ↔ domain for receipts and cash: one named function per direction.

``receipt_to_domain`` resolves everything the register needs (tax system from ``[tax]``,
subject and method from the category, the cashier from ``[cashier]`` when the request names
none) and runs the fiscal rules of the agent's country (:mod:`agent.domain.country`), so bad
input is refused before it is stored. A rule error's ``field`` is the request's own dotted
path (``items.2.price``, ``customer.email``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from agent.config import AgentConfig
from agent.contract import (
    CashCommand,
    CommandOutcome,
    ErrorDetail,
    FiscalResult,
    ItemRequest,
    ReceiptRequest,
    ReceiptResult,
    format_money,
    kopecks_to_money,
    money_to_kopecks,
)
from agent.domain.country import CountryProfile
from agent.domain.errors import ReceiptRuleError
from agent.domain.money import QTY_SCALE, Kopecks, Micros
from agent.domain.receipt import (
    CATEGORY_DEFAULTS,
    Cashier,
    Category,
    Item,
    PaymentMethod,
    Payments,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.domain.rules import check_receipt
from agent.domain.vat import receipt_vat
from agent.outbox.orders import CashDirection, CashOrder, FiscalRecord
from agent.outbox.states import RowKind, RowState
from agent.outbox.store import OutboxRow

__all__ = [
    "cash_to_domain",
    "fiscal_to_contract",
    "qr_string",
    "receipt_to_domain",
    "row_to_outcome",
    "row_to_result",
    "vat_to_contract",
]

_PHONE_SEPARATORS = str.maketrans("", "", " -()")


def receipt_to_domain(
    req: ReceiptRequest,
    *,
    config: AgentConfig,
    country: CountryProfile | None = None,
    on: date | None = None,
) -> Receipt:
    """The request as a checked domain receipt.

    ``country`` is where it is issued (the composition passes it; by default the config's
    ``country``). ``on`` is the day the rules apply to (the VAT rates in force); by default
    the day of ``paid_at``, else today, on the register's clock zone.

    Raises:
        ReceiptRuleError: the receipt breaks a fiscal rule; ``field`` is the request's path.
    """
    country = country or config.profile
    _check_no_subject(req, country)
    category = Category(req.category)
    tax_system = _tax_system(config, req.category)
    subject, method = CATEGORY_DEFAULTS[category]
    cashier = req.cashier or config.cashier
    contact, contact_field = _contact(req)
    receipt = Receipt(
        kind=ReceiptKind[req.kind.upper()],
        category=category,
        tax_system=tax_system,
        items=tuple(_item(item, subject, method) for item in req.items),
        payments=Payments(
            cash=_kopecks(req.payments.cash),
            card=_kopecks(req.payments.card),
            prepaid=_kopecks(req.payments.prepaid),
        ),
        cashier=Cashier(name=cashier.name, inn=cashier.inn),
        customer_contact=contact,
        paid_at=req.paid_at,
    )
    # The rules in force on the day of the payment: a late payment's correction keeps them.
    paid_day = req.paid_at.astimezone(config.register.zone).date() if req.paid_at else None
    day = on or paid_day or datetime.now(config.register.zone).date()
    try:
        check_receipt(receipt, on=day, country=country)
    except ReceiptRuleError as exc:
        if exc.field == "customer" and contact_field is not None:
            raise ReceiptRuleError(exc.code, contact_field, exc.reason) from exc
        raise
    return receipt


def _tax_system(config: AgentConfig, category: str) -> TaxSystem | None:
    """``[tax]``'s system for the category (tag 1055); None where the country has none."""
    if config.tax is None:
        return None
    name: str = getattr(config.tax, category)
    return TaxSystem[name.upper()]


def _check_no_subject(req: ReceiptRequest, country: CountryProfile) -> None:
    """A subject of calculation (tag 1212) is a Russian requisite: refused elsewhere."""
    if country.ffd_requisites:
        return
    for index, item in enumerate(req.items):
        if item.subject:
            raise ReceiptRuleError(
                "requisite_not_in_country",
                f"items.{index}.subject",
                f"a subject of calculation (tag 1212) is a Russian requisite; receipts in"
                f" {country.name} ({country.code}) carry none: leave it out",
            )


def _item(item: ItemRequest, subject: PaymentSubject, method: PaymentMethod) -> Item:
    micros = item.qty * QTY_SCALE
    assert micros == micros.to_integral_value(), "the contract allows at most 6 decimals"
    return Item(
        name=item.name,
        qty=Micros(int(micros)),
        price=Kopecks(money_to_kopecks(item.price)),
        vat=VatRate[item.vat.upper()],
        subject=PaymentSubject[item.subject.upper()] if item.subject else subject,
        method=method,
    )


def _kopecks(value: Decimal | None) -> Kopecks:
    return Kopecks(0) if value is None else Kopecks(money_to_kopecks(value))


def _contact(req: ReceiptRequest) -> tuple[str | None, str | None]:
    """Tag 1008: the e-mail when given, else the phone without separators."""
    customer = req.customer
    if customer is None:
        return None, None
    if customer.email:
        return customer.email.strip(), "customer.email"
    if customer.phone:
        return customer.phone.translate(_PHONE_SEPARATORS), "customer.phone"
    return None, None


def cash_to_domain(cmd: CashCommand) -> CashOrder:
    """A cash command as a cash order."""
    return CashOrder(
        direction=CashDirection(cmd.direction),
        amount=Kopecks(money_to_kopecks(cmd.amount)),
        comment=cmd.comment,
    )


def qr_string(record: FiscalRecord, kind: ReceiptKind) -> str:
    """The OFD check string: ``t=YYYYMMDDTHHMM&s=RUBLES.KK&fn=…&i=…&fp=…&n=1|2``.

    ``t`` is the register's wall-clock time of the document (docs/fiscal-law-notes.md §2), ``n`` the
    calculation sign (tag 1054): 1 sale, 2 refund.
    """
    stamp = record.issued_at.strftime("%Y%m%dT%H%M")
    total = format_money(kopecks_to_money(record.total))
    return f"t={stamp}&s={total}&fn={record.fn}&i={record.fd}&fp={record.fp}&n={kind.value}"


def fiscal_to_contract(
    record: FiscalRecord, kind: ReceiptKind, vat: dict[str, Decimal] | None = None
) -> FiscalResult:
    """The signed document as the contract's ``fiscal`` object, with its QR string.

    ``vat`` is the receipt's VAT per rate code (see :func:`vat_to_contract`).
    """
    return FiscalResult(
        fn=record.fn,
        fd=record.fd,
        fp=record.fp if record.doc_id is None else None,
        shift=record.shift,
        number=record.number,
        issued_at=record.issued_at,
        total=kopecks_to_money(record.total),
        qr=qr_string(record, kind) if record.doc_id is None else None,
        doc_id=record.doc_id or f"{record.fn}:{record.fd}",
        mark=record.mark,
        type=record.type,
        vat=vat,
    )


def vat_to_contract(vat: Mapping[VatRate, Kopecks]) -> dict[str, Decimal]:
    """VAT per rate as the contract carries it: ``{"vat22": Decimal("27.05"), ...}``.

    In tax mode 0 (which the agent checks at connect) the register computes VAT by the rule
    of :mod:`agent.domain.vat`, so the receipt's VAT is recomputed from its lines here.
    """
    return {rate.code: kopecks_to_money(amount) for rate, amount in vat.items()}


def _error(row: OutboxRow) -> ErrorDetail | None:
    if row.state is RowState.DONE or row.error_code is None:
        return None
    return ErrorDetail(code=row.error_code, message=row.error_message or "")


def row_to_result(row: OutboxRow) -> ReceiptResult:
    """A row as the contract's result, whatever its state.

    ``fiscal`` is set for a done receipt; ``error`` for rejected, failed and unknown rows,
    and for a pending or printing row whose last attempt failed (why it waits).
    """
    fiscal = None
    if row.state is RowState.DONE and row.fiscal is not None and row.receipt is not None:
        vat = vat_to_contract(receipt_vat(row.receipt))
        fiscal = fiscal_to_contract(row.fiscal, row.receipt.kind, vat)
    return ReceiptResult(id=row.id, status=row.state.value, fiscal=fiscal, error=_error(row))


def row_to_outcome(row: OutboxRow) -> CommandOutcome:
    """A cash row as the contract's command outcome (``evt/command``)."""
    if row.kind is not RowKind.CASH:
        msg = f"row {row.id} is a {row.kind.value}, not a command"
        raise ValueError(msg)
    return CommandOutcome(id=row.id, status=row.state.value, error=_error(row))
