"""Public contract v1 (docs/contract.md) as pydantic models.

The cloud imports this package, so it imports nothing else from the agent. Money is a
:class:`~decimal.Decimal` inside the models and a JSON string with two decimals on the wire.
"""

from agent.contract._types import (
    MAX_MONEY,
    CategoryName,
    Money,
    Quantity,
    ReceiptKindName,
    RequestId,
    StatusName,
    SubjectName,
    TaxSystemName,
    Timestamp,
    VatName,
    format_money,
    kopecks_to_money,
    money_to_kopecks,
)
from agent.contract.commands import CashCommand, CommandOutcome, ResolveCommand, ShiftCommand
from agent.contract.documents import DOCUMENT_TYPE_NAMES, DocumentPayments, FiscalDocument
from agent.contract.errors import ErrorBody, ErrorInfo, field_path
from agent.contract.fingerprint import canonical_json, request_fingerprint
from agent.contract.health import (
    FnHealth,
    Health,
    LastError,
    LineHealth,
    OutboxHealth,
    RegisterHealth,
    RegisterStateName,
    ShiftHealth,
    SyncHealth,
)
from agent.contract.receipts import (
    CashierInfo,
    Customer,
    ErrorDetail,
    FiscalResult,
    ItemRequest,
    PaymentsRequest,
    ReceiptRequest,
    ReceiptResult,
)
from agent.contract.rejections import RejectedCommand
from agent.contract.reports import PaymentCounters, ShiftCounters, ShiftReport

__all__ = [
    "DOCUMENT_TYPE_NAMES",
    "MAX_MONEY",
    "CashCommand",
    "CashierInfo",
    "CategoryName",
    "CommandOutcome",
    "Customer",
    "DocumentPayments",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "FiscalDocument",
    "FiscalResult",
    "FnHealth",
    "Health",
    "ItemRequest",
    "LastError",
    "LineHealth",
    "Money",
    "OutboxHealth",
    "PaymentCounters",
    "PaymentsRequest",
    "Quantity",
    "ReceiptKindName",
    "ReceiptRequest",
    "ReceiptResult",
    "RegisterHealth",
    "RegisterStateName",
    "RejectedCommand",
    "RequestId",
    "ResolveCommand",
    "ShiftCommand",
    "ShiftCounters",
    "ShiftHealth",
    "ShiftReport",
    "StatusName",
    "SubjectName",
    "SyncHealth",
    "TaxSystemName",
    "Timestamp",
    "VatName",
    "canonical_json",
    "field_path",
    "format_money",
    "kopecks_to_money",
    "money_to_kopecks",
    "request_fingerprint",
]
