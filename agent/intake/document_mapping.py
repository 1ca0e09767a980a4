"""FN tape documents as docs/contract.md v1.1 FiscalDocument messages (topic ``evt/document``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.contract import (
    DOCUMENT_TYPE_NAMES,
    DocumentPayments,
    FiscalDocument,
    ReceiptKindName,
    kopecks_to_money,
)
from agent.domain.receipt import ReceiptKind

if TYPE_CHECKING:
    from agent.fiscal.tape import TapeDocument

__all__ = ["document_to_contract", "document_type_name"]

_KIND_NAMES: dict[ReceiptKind, ReceiptKindName] = {
    ReceiptKind.SALE: "sale",
    ReceiptKind.REFUND: "refund",
}


def document_type_name(form: int) -> str:
    """The contract's ``type`` of an FFD form code: ``receipt``, ``open_shift``, ...

    A code the contract has no name for is ``fd_type_<N>``, so it still reaches the cloud.
    """
    return DOCUMENT_TYPE_NAMES.get(form, f"fd_type_{form}")


def document_to_contract(document: TapeDocument) -> FiscalDocument:
    """A FiscalDocument for ``evt/document``."""
    return FiscalDocument(
        fn=document.fn,
        fd=document.fd,
        doc_id=document.doc_id,
        type=document_type_name(int(document.type)),
        kind=None if document.kind is None else _KIND_NAMES[document.kind],
        total=None if document.total is None else kopecks_to_money(document.total),
        shift=document.shift,
        issued_at=document.issued_at,
        mark=document.mark,
        payments=(
            None
            if document.payments is None
            else DocumentPayments(
                cash=kopecks_to_money(document.payments.cash),
                card=kopecks_to_money(document.payments.card),
                prepaid=kopecks_to_money(document.payments.prepaid),
            )
        ),
    )
