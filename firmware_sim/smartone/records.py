"""The documents the simulated cash box issued, as it keeps them for replies and reports (pure).

Each sale, refund, deposit and withdraw gets a :class:`DocumentRecord`: its ``documentID``
(one increasing counter), its ``fiscalID`` (12 characters derived from that counter, so
tests are reproducible and ids never repeat), the register document it became (an FD for a
receipt, a cash movement number for cash in/out), its money and VAT, and the reply sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from firmware_sim.smartone.orders import OrderLine

__all__ = ["FISCAL_URL", "DocumentRecord", "Operation", "fiscal_id"]

FISCAL_URL = "https://monitoring.e-kassa.gov.az/#/index?doc="
"""The public receipt lookup by fiscalID (docs/smartone-notes.md §3)."""
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 12
_SPACE = len(_ALPHABET) ** _WIDTH
_MULTIPLIER = 0x5DEECE66D  # odd and not a multiple of 31: a bijection modulo 62**12
_OFFSET = 0x1F3A5C7E9B2D


def fiscal_id(document_id: int) -> str:
    """A 12-character fiscalID for a documentID: stable, and distinct for distinct ids."""
    value = (document_id * _MULTIPLIER + _OFFSET) % _SPACE
    chars = []
    for _ in range(_WIDTH):
        value, digit = divmod(value, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


class Operation(Enum):
    """What a document did; the value is the route name and the tape's ``kind``."""

    SALE = "sale"
    REFUND = "refund"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"

    @property
    def is_receipt(self) -> bool:
        """A sale or refund: a receipt with lines, an FD on the register's tape."""
        return self in (Operation.SALE, Operation.REFUND)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRecord:
    """One issued document and the reply its request got."""

    document_id: int
    operation: Operation
    ext_id: str | None
    shift: int
    fd: int | None  # the register's fiscal document (sale, refund)
    movement: int | None  # the register's cash movement (deposit, withdraw)
    total: int
    cash: int  # cash kept (net of change)
    cashless: int
    other: int
    change: int
    vat: tuple[tuple[int, int], ...]  # (tax percent ×100, VAT qəpik)
    lines: tuple[OrderLine, ...]
    parent_fiscal_id: str | None  # refund: the sale it names
    doc_time: str
    print_time: str
    print_error: int
    reply: dict[str, Any]  # what the request was answered, repeated for the same documentExtID

    @property
    def fiscal_id(self) -> str:
        """The fiscal document id (refunds name it in ``parentDocID``)."""
        return fiscal_id(self.document_id)

    @property
    def fiscal_num(self) -> str:
        """The fiscal document number: the documentID as a string (the simulator's choice)."""
        return str(self.document_id)

    @property
    def fiscal_url(self) -> str:
        """The document at the tax service's public lookup."""
        return FISCAL_URL + self.fiscal_id

    def total_payments(self) -> list[dict[str, Any]]:
        """``totalPayments``: one entry per payment form used (codes are the simulator's)."""
        forms = (("cash", self.cash), ("cashless", self.cashless), ("other", self.other))
        return [{"code": code, "amount": amount} for code, amount in forms if amount]

    def fiscal_fields(self) -> dict[str, Any]:
        """The fields every reply about this document carries."""
        return {
            "documentID": self.document_id,
            "documentExtID": self.ext_id,
            "fiscalID": self.fiscal_id,
            "fiscalNum": self.fiscal_num,
            "fiscalUrl": self.fiscal_url,
            "docTime": self.doc_time,
            "printTime": self.print_time,
            "docStatus": 1,
            "printError": self.print_error,
        }

    def to_json(self) -> dict[str, Any]:
        """The record as the state file keeps it."""
        return {
            "document_id": self.document_id,
            "operation": self.operation.value,
            "ext_id": self.ext_id,
            "shift": self.shift,
            "fd": self.fd,
            "movement": self.movement,
            "total": self.total,
            "cash": self.cash,
            "cashless": self.cashless,
            "other": self.other,
            "change": self.change,
            "vat": [list(pair) for pair in self.vat],
            "lines": [
                {
                    "key": line.key,
                    "name": line.name,
                    "qty": line.qty,
                    "price": line.price,
                    "amount": line.amount,
                    "tax_prc": line.tax_prc,
                }
                for line in self.lines
            ],
            "parent_fiscal_id": self.parent_fiscal_id,
            "doc_time": self.doc_time,
            "print_time": self.print_time,
            "print_error": self.print_error,
            "reply": self.reply,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DocumentRecord:
        """A record from the state file."""
        return cls(
            document_id=raw["document_id"],
            operation=Operation(raw["operation"]),
            ext_id=raw["ext_id"],
            shift=raw["shift"],
            fd=raw["fd"],
            movement=raw["movement"],
            total=raw["total"],
            cash=raw["cash"],
            cashless=raw["cashless"],
            other=raw["other"],
            change=raw["change"],
            vat=tuple((int(prc), int(vat)) for prc, vat in raw["vat"]),
            lines=tuple(OrderLine(**line) for line in raw["lines"]),
            parent_fiscal_id=raw["parent_fiscal_id"],
            doc_time=raw["doc_time"],
            print_time=raw["print_time"],
            print_error=raw["print_error"],
            reply=raw["reply"],
        )
