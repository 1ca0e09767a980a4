"""ReceiptRequest and ReceiptResult (docs/contract.md v1, ``cmd/receipt`` and ``evt/receipt``).

Requests refuse unknown fields (a typo is a 422 naming the field); results ignore them, so a
consumer keeps working when a newer agent adds a field. Every model is frozen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from agent.contract._types import (
    CategoryName,
    Money,
    Quantity,
    ReceiptKindName,
    RequestId,
    StatusName,
    SubjectName,
    Timestamp,
    VatName,
)

__all__ = [
    "CashierInfo",
    "Customer",
    "ErrorDetail",
    "FiscalResult",
    "ItemRequest",
    "PaymentsRequest",
    "ReceiptRequest",
    "ReceiptResult",
]

PAID_AT_SKEW: Final = timedelta(minutes=5)
"""How far ``paid_at`` may lie ahead of the agent's clock: the CRM's clock is not ours."""

MAX_TEXT_CHARS = 1024
"""A guard against abuse only; the fiscal rules apply tighter limits with their own codes."""
MAX_ITEMS_ON_WIRE = 1000
"""Same: the rules refuse more than 100 items with ``too_many_items``."""

_REQUEST = ConfigDict(extra="forbid", frozen=True)
_RESULT = ConfigDict(extra="ignore", frozen=True)

Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


class ItemRequest(BaseModel):
    """One line: ``{"name": "Кофе", "qty": "2", "price": "150.00", "vat": "vat22"}``.

    ``subject`` (tag 1212) overrides the category's default subject; its values are
    commodity, excise, job, service, payment, agent_commission, composite, another, deposit.
    VAT names are docs/contract.md's (none, vat0, vat5, vat7, vat10, vat20, vat22, vat10_110,
    vat20_120) plus an extension for the 2026 calculated rates: vat22_122, vat5_105, vat7_107,
    and (v1.1) Azerbaijan's vat18. Which of them a receipt may carry depends on the agent's
    ``country``: a rate of another country is refused (``vat_rate_not_in_country``).
    """

    model_config = _REQUEST

    name: Text
    qty: Quantity
    price: Money
    vat: VatName
    subject: SubjectName | None = None


class PaymentsRequest(BaseModel):
    """How the customer paid: ``{"cash": "200.00", "card": "300.00"}``.

    Cash may exceed the total: the rest is change. ``prepaid`` offsets an earlier advance
    (tag 1215). A bonus-point payment is not fiscalized: the CRM does not send it.
    """

    model_config = _REQUEST

    cash: Money | None = None
    card: Money | None = None
    prepaid: Money | None = None


class Customer(BaseModel):
    """Where the OFD sends the electronic receipt (tag 1008): ``{"email": "a@b.ru"}``."""

    model_config = _REQUEST

    email: Text | None = None
    phone: Text | None = None


class CashierInfo(BaseModel):
    """The person on the receipt (tags 1021 / 1203): ``{"name": "Иванов", "inn": "..."}``."""

    model_config = _REQUEST

    name: Text
    inn: Text | None = None


class ReceiptRequest(BaseModel):
    """A receipt to fiscalize, topic ``cmd/receipt`` and ``POST /api/v1/receipts``.

    docs/contract.md v1::

        id          string, 1..64   idempotency key: the CRM transaction id
        kind        "sale" | "refund"
        category    "top_up" | "service" | "goods"   selects the configured tax system
        items       [{name, qty, price, vat, subject?}]
        payments    {cash?, card?, prepaid?}   cash may exceed the total: the rest is change
        customer?   {email?, phone?}           tag 1008
        cashier?    {name, inn?}               tags 1021 / 1203; falls back to the config
        paid_at?    ISO 8601 with an offset    when the CRM took the payment (v1.1); a
                                               receipt printed late for it is a correction
                                               receipt (docs/corrections.md)
        refund_of?  string, 1..64   a refund: the id of the sale it returns (v1.1); a
                                    register that links refunds to their sale's document
                                    (SmartOne: parentDocID) names that sale's document

    Example::

        {"id": "crm-20260105-000123", "kind": "sale", "category": "top_up",
         "items": [{"name": "Пополнение баланса", "qty": "1", "price": "500.00",
                    "vat": "vat22_122"}],
         "payments": {"card": "500.00"}, "customer": {"email": "guest@example.com"}}
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "crm-20260105-000123",
                    "kind": "sale",
                    "category": "top_up",
                    "items": [
                        {
                            "name": "Пополнение баланса",
                            "qty": "1",
                            "price": "500.00",
                            "vat": "vat22_122",
                        }
                    ],
                    "payments": {"card": "500.00"},
                    "customer": {"email": "guest@example.com"},
                },
                {
                    "id": "crm-20260105-000124",
                    "kind": "sale",
                    "category": "goods",
                    "items": [
                        {"name": "Кофе", "qty": "2", "price": "150.00", "vat": "vat22"},
                        {"name": "Чипсы", "qty": "1", "price": "89.90", "vat": "vat22"},
                    ],
                    "payments": {"cash": "400.00"},
                    "cashier": {"name": "Иванов И.И.", "inn": "500100732259"},
                },
                {
                    "id": "crm-20260105-000125",
                    "kind": "sale",
                    "category": "service",
                    "items": [
                        {
                            "name": "Игровое время, 3 часа",
                            "qty": "1",
                            "price": "450.00",
                            "vat": "none",
                            "subject": "service",
                        }
                    ],
                    "payments": {"prepaid": "450.00"},
                },
            ]
        },
    )

    id: RequestId
    kind: ReceiptKindName
    category: CategoryName
    items: Annotated[list[ItemRequest], Field(max_length=MAX_ITEMS_ON_WIRE)]
    payments: PaymentsRequest
    customer: Customer | None = None
    cashier: CashierInfo | None = None
    paid_at: Timestamp | None = None  # v1.1: when the CRM took the payment
    refund_of: RequestId | None = None  # v1.1: a refund's sale, by its request id

    @field_validator("paid_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + PAID_AT_SKEW:
            minutes = int(PAID_AT_SKEW.total_seconds() // 60)
            raise PydanticCustomError(
                "paid_at_in_future",
                "paid_at lies in the future (more than {minutes} minutes ahead of the agent's"
                " clock): a payment is taken before its receipt",
                {"minutes": minutes},
            )
        return value


class FiscalResult(BaseModel):
    """The signed document: FN serial, FD number, FPD, shift, number in shift, time, QR.

    ``issued_at`` is the register's own clock. ``qr`` is the OFD check string
    ``t=YYYYMMDDTHHMM&s=RUBLES.KK&fn=...&i=...&fp=...&n=1|2`` (docs/fiscal-law-notes.md §2).
    v1.1: ``doc_id`` (``"<FN>:<FD>"``), ``mark`` (the request id the FN document carries;
    absent when a person settled the row with a document that carries none), ``type`` and
    ``vat``: the VAT per rate the register signed, ``{"vat22": "27.05", "none": "0.00"}``.
    """

    model_config = _RESULT

    fn: str  # the FN serial; a register without one (SmartOne): its own serial
    fd: int
    fp: int | None = None  # absent where the register signs no FPD (SmartOne) (v1.1)
    shift: int
    number: int
    issued_at: Timestamp
    total: Money
    qr: str | None = None  # absent where the register has no OFD check string (v1.1)
    doc_id: str | None = None  # v1.1: "<FN>:<FD>" on a Russian FN; SmartOne: its fiscalID
    mark: str | None = None  # v1.1: what the receipt carries into the FN to name its request
    type: Literal["receipt", "correction"] = "receipt"  # v1.1
    vat: dict[VatName, Money] | None = None  # v1.1: VAT per rate of the receipt


class ErrorDetail(BaseModel):
    """Why a request was rejected or failed: ``{"code": "payments_below_total", ...}``."""

    model_config = _RESULT

    code: str
    message: str


class ReceiptResult(BaseModel):
    """The outcome of a ReceiptRequest, topic ``evt/receipt`` and ``GET /api/v1/receipts/{id}``.

    ``status`` is done, rejected or failed on MQTT; the local HTTP API also answers pending,
    printing and unknown (needs a person) while a receipt is not final.

    Example::

        {"id": "crm-20260105-000123", "status": "done",
         "fiscal": {"fn": "9289000100346765", "fd": 97660, "fp": 4179925410, "shift": 12,
                    "number": 7, "issued_at": "2026-01-05T15:52:00+03:00", "total": "500.00",
                    "qr": "t=20260105T1552&s=500.00&fn=9289000100346765&i=97660&fp=4179925410&n=1"}}
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "crm-20260105-000123",
                    "status": "done",
                    "fiscal": {
                        "fn": "9289000100346765",
                        "fd": 97660,
                        "fp": 4179925410,
                        "shift": 12,
                        "number": 7,
                        "issued_at": "2026-01-05T15:52:00+03:00",
                        "total": "500.00",
                        "qr": (
                            "t=20260105T1552&s=500.00&fn=9289000100346765&i=97660&fp=4179925410&n=1"
                        ),
                    },
                },
                {
                    "id": "crm-20260105-000126",
                    "status": "rejected",
                    "error": {
                        "code": "payments_below_total",
                        "message": "payments: the payments are less than the receipt total",
                    },
                },
                {"id": "crm-20260105-000127", "status": "pending"},
            ]
        },
    )

    id: RequestId
    status: StatusName
    fiscal: FiscalResult | None = None
    error: ErrorDetail | None = None
