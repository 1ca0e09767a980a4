"""FiscalDocument (docs/contract.md v1.1, topic ``evt/document``): a document on the FN tape.

The agent publishes the documents of a shift that it did not issue itself (printed at the
register by hand, or by another program), read back from the FN at each Z and on
``cmd/shift {"action": "sync_tape"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from agent.contract._types import Money, ReceiptKindName, Timestamp

__all__ = ["DOCUMENT_TYPE_NAMES", "DocumentPayments", "FiscalDocument"]

DOCUMENT_TYPE_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "registration",
        2: "open_shift",
        3: "receipt",
        4: "bso",
        5: "close_shift",
        6: "close_fn",
        11: "reregistration",
        21: "calculation_report",
        31: "correction",
        41: "bso_correction",
    }
)
"""``type`` by FFD form code (tag 1000 values); another code is named ``"fd_type_<N>"``."""


class DocumentPayments(BaseModel):
    """A receipt's payment split as the FN keeps it (v1.1).

    ``cash`` is tag 1031, the cash kept (net of change: the FN stores no change); ``card``
    tag 1081, electronic; ``prepaid`` tag 1215, an earlier advance offset. Each is "0.00"
    when the receipt has none of it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    cash: Money
    card: Money
    prepaid: Money


class FiscalDocument(BaseModel):
    """One document of the FN tape.

    docs/contract.md v1.1::

        fn, fd, doc_id, type ("receipt", "open_shift", "close_shift", ...), kind?, total?,
        shift, issued_at, mark?, payments? {cash, card, prepaid}

    ``doc_id`` is ``"<FN>:<FD>"`` on a register with a Russian FN (as in ReceiptResult).
    ``kind``, ``total`` and ``payments`` are a receipt's; ``mark`` is the request id a receipt
    carries (absent on one printed by hand). ``type`` is a string so that a document type the agent
    learns later does not break an older reader.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "fn": "9289000100346765",
                    "fd": 97601,
                    "doc_id": "9289000100346765:97601",
                    "type": "receipt",
                    "kind": "sale",
                    "total": "350.00",
                    "shift": 12,
                    "issued_at": "2026-01-05T14:02:00+03:00",
                    "payments": {"cash": "350.00", "card": "0.00", "prepaid": "0.00"},
                },
                {
                    "fn": "9289000100346765",
                    "fd": 97574,
                    "doc_id": "9289000100346765:97574",
                    "type": "open_shift",
                    "shift": 12,
                    "issued_at": "2026-01-05T09:00:00+03:00",
                },
            ]
        },
    )

    fn: str
    fd: Annotated[int, Field(ge=1)]
    doc_id: str
    type: Annotated[str, Field(min_length=1, max_length=32)]
    kind: ReceiptKindName | None = None
    total: Money | None = None
    shift: int
    issued_at: Timestamp
    mark: str | None = None
    payments: DocumentPayments | None = None  # v1.1: a receipt's split, read from the FN
