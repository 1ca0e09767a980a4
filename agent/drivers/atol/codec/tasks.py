"""Receipts and commands as ATOL JSON tasks (docs/atol-driver.md §3). Pure.

A task is a plain ``dict`` ready for ``json.dumps``: the web server hands it unchanged to the
driver's JSON interface. Money goes as a number of roubles (``150.0``), quantities as a number
(``0.5``). The receipt's mark is an item of type ``userAttribute`` (tag 1084: 1085 name
:data:`~agent.drivers.interface.MARK_NAME`, 1086 the mark), printed on the receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import (
    Cashier,
    CorrectionType,
    Item,
    PaymentMethod,
    PaymentSubject,
    Receipt,
    ReceiptKind,
    TaxSystem,
    VatRate,
)
from agent.drivers.errors import TaxSystemMissing, VatRateNotSupported
from agent.drivers.interface import MARK_NAME

__all__ = [
    "CORRECTION_TYPES",
    "FISCAL_TASKS",
    "PAYMENT_METHODS",
    "PAYMENT_OBJECTS",
    "READ_TASKS",
    "TAXATION_TYPES",
    "VAT_TYPES",
    "Task",
    "cash_task",
    "fn_document_task",
    "read_task",
    "receipt_task",
    "receipt_task_type",
    "roubles",
    "shift_task",
]

Task = dict[str, Any]
"""One JSON task: ``{"type": ..., ...}``."""

VAT_TYPES: Final[Mapping[VatRate, str]] = MappingProxyType(
    {
        VatRate.VAT22: "vat22",
        VatRate.VAT20: "vat20",
        VatRate.VAT10: "vat10",
        VatRate.VAT7: "vat7",
        VatRate.VAT5: "vat5",
        VatRate.VAT0: "vat0",
        VatRate.NONE: "none",
        VatRate.VAT22_122: "vat122",
        VatRate.VAT20_120: "vat120",
        VatRate.VAT10_110: "vat110",
        VatRate.VAT7_107: "vat107",
        VatRate.VAT5_105: "vat105",
    }
)
"""Our VAT rate -> ATOL ``tax.type``."""

TAXATION_TYPES: Final[Mapping[TaxSystem, str]] = MappingProxyType(
    {
        TaxSystem.OSN: "osn",
        TaxSystem.USN_INCOME: "usnIncome",
        TaxSystem.USN_INCOME_OUTCOME: "usnIncomeOutcome",
        TaxSystem.ESHN: "esn",
        TaxSystem.PATENT: "patent",
    }
)
"""Our tax system -> ATOL ``taxationType`` (tag 1055)."""

PAYMENT_METHODS: Final[Mapping[PaymentMethod, str]] = MappingProxyType(
    {
        PaymentMethod.FULL_PREPAYMENT: "fullPrepayment",
        PaymentMethod.PREPAYMENT: "prepayment",
        PaymentMethod.ADVANCE: "advance",
        PaymentMethod.FULL_SETTLEMENT: "fullPayment",
        PaymentMethod.PARTIAL_SETTLEMENT_AND_CREDIT: "partialPayment",
        PaymentMethod.CREDIT_TRANSFER: "credit",
        PaymentMethod.CREDIT_PAYMENT: "creditPayment",
    }
)
"""Payment method, tag 1214 -> ATOL ``paymentMethod``."""

PAYMENT_OBJECTS: Final[Mapping[PaymentSubject, str]] = MappingProxyType(
    {
        PaymentSubject.COMMODITY: "commodity",
        PaymentSubject.EXCISE: "excise",
        PaymentSubject.JOB: "job",
        PaymentSubject.SERVICE: "service",
        PaymentSubject.PAYMENT: "payment",
        PaymentSubject.AGENT_COMMISSION: "agentCommission",
        PaymentSubject.COMPOSITE: "composite",
        PaymentSubject.ANOTHER: "another",
        PaymentSubject.DEPOSIT: "deposit",
    }
)
"""Subject of calculation, tag 1212 -> ATOL ``paymentObject`` (names, as real clients send)."""

CORRECTION_TYPES: Final[Mapping[CorrectionType, str]] = MappingProxyType(
    {CorrectionType.SELF: "self", CorrectionType.BY_ORDER: "instruction"}
)
"""Correction type, tag 1173 -> ATOL ``correctionType``."""

_RECEIPT_TASKS: Final = {ReceiptKind.SALE: "sell", ReceiptKind.REFUND: "sellReturn"}
_CORRECTION_TASKS: Final = {
    ReceiptKind.SALE: "sellCorrection",
    ReceiptKind.REFUND: "sellReturnCorrection",
}

FISCAL_TASKS: Final = frozenset(
    {
        "openShift",
        "closeShift",
        "sell",
        "sellReturn",
        "sellCorrection",
        "sellReturnCorrection",
        "reportOfdExchangeStatus",
    }
)
"""The tasks this driver sends that make a fiscal document: one per request, never two."""

READ_TASKS: Final = frozenset(
    {
        "getDeviceInfo",
        "getDeviceStatus",
        "getShiftStatus",
        "getFnInfo",
        "getFnStatus",
        "ofdExchangeStatus",
        "getShiftTotals",
        "getFnDocument",
    }
)
"""Tasks that only read: nothing on the register changes, whenever they run."""


def roubles(amount: Kopecks) -> float:
    """Kopecks as the JSON number of roubles: 15000 -> 150.0 (exact to the kopeck)."""
    return round(amount / 100, 2)


def _quantity(qty: Micros) -> float:
    """Millionths as the JSON quantity: 500000 -> 0.5."""
    return round(qty / 1_000_000, 6)


def _operator(cashier: Cashier) -> dict[str, str]:
    """Tags 1021 (name) and 1203 (INN)."""
    operator = {"name": cashier.name}
    if cashier.inn:
        operator["vatin"] = cashier.inn
    return operator


def _position(item: Item) -> Task:
    return {
        "type": "position",
        "name": item.name,
        "price": roubles(item.price),
        "quantity": _quantity(item.qty),
        "amount": roubles(item.amount),
        "paymentMethod": PAYMENT_METHODS[item.method],
        "paymentObject": PAYMENT_OBJECTS[item.subject],
        "tax": {"type": VAT_TYPES[item.vat]},
    }


def receipt_task_type(receipt: Receipt) -> str:
    """``sell``/``sellReturn``, or their correction forms for a receipt with ``correction``."""
    table = _CORRECTION_TASKS if receipt.correction is not None else _RECEIPT_TASKS
    return table[receipt.kind]


def receipt_task(receipt: Receipt, *, mark: str, taxation_type: str | None = None) -> Task:
    """The receipt as one ``sell``/``sellReturn`` (or correction) task carrying ``mark``.

    ``taxation_type`` overrides the name the receipt's tax system maps to. The register
    computes each line's VAT from its ``tax.type``: no tax sums are sent. Payments of 0 are
    left out; cash above the total is change, which the register counts itself.

    Raises:
        ValueError: the mark is empty.
        VatRateNotSupported: a line's VAT rate has no ATOL ``tax.type`` (``vat18``, a rate of
            another country, has none).
        TaxSystemMissing: the receipt has no tax system and no ``taxation_type`` is given.
    """
    if not mark:
        raise ValueError("a receipt needs a non-empty mark")
    unmapped = tuple(
        dict.fromkeys(item.vat.code for item in receipt.items if item.vat not in VAT_TYPES)
    )
    if unmapped:
        raise VatRateNotSupported("ATOL", unmapped)
    taxation = taxation_type
    if taxation is None:
        if receipt.tax_system is None:
            raise TaxSystemMissing("ATOL")
        taxation = TAXATION_TYPES[receipt.tax_system]
    items: list[Task] = [_position(item) for item in receipt.items]
    items.append({"type": "userAttribute", "name": MARK_NAME, "value": mark, "print": True})
    payments = [
        {"type": kind, "sum": roubles(amount)}
        for kind, amount in (
            ("cash", receipt.payments.cash),
            ("electronically", receipt.payments.card),
            ("prepaid", receipt.payments.prepaid),
        )
        if amount
    ]
    task: Task = {
        "type": receipt_task_type(receipt),
        "taxationType": taxation,
        "electronically": False,
        "operator": _operator(receipt.cashier),
        "items": items,
        "payments": payments,
        "total": roubles(receipt.total),
    }
    if receipt.customer_contact:
        task["clientInfo"] = {"emailOrPhone": receipt.customer_contact}
    if receipt.correction is not None:
        task["correctionType"] = CORRECTION_TYPES[receipt.correction.type]
        task["correctionBaseDate"] = receipt.correction.settled_on.strftime("%Y.%m.%d")
    return task


def shift_task(kind: str, cashier: Cashier | None = None) -> Task:
    """``openShift``, ``closeShift`` (Z), ``reportX``: with the operator when one is given."""
    if kind not in {"openShift", "closeShift", "reportX"}:
        raise ValueError(f"not a shift task: {kind}")
    task: Task = {"type": kind}
    if cashier is not None:
        task["operator"] = _operator(cashier)
    return task


def cash_task(kind: str, amount: Kopecks) -> Task:
    """``cashIn``/``cashOut`` of ``amount`` (a positive number of kopecks)."""
    if kind not in {"cashIn", "cashOut"}:
        raise ValueError(f"not a cash task: {kind}")
    if amount <= 0:
        raise ValueError(f"a cash movement needs a positive amount, not {amount}")
    return {"type": kind, "cashSum": roubles(amount)}


def fn_document_task(fd: int) -> Task:
    """``getFnDocument`` of FD ``fd``, parsed (no raw bytes)."""
    if fd < 1:
        raise ValueError(f"FD numbers start at 1, not {fd}")
    return {"type": "getFnDocument", "fiscalDocumentNumber": fd, "withRawData": False}


def read_task(kind: str) -> Task:
    """A task without parameters: ``getDeviceStatus``, ``getShiftStatus``, ``getFnStatus``..."""
    return {"type": kind}
