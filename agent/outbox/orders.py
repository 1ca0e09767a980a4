"""What an outbox row carries besides a receipt: a cash order and the signed result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Literal

from agent.domain.money import Kopecks

__all__ = ["CashDirection", "CashOrder", "FiscalRecord"]


class CashDirection(Enum):
    """Into the drawer (0x50) or out of it (0x51, collection)."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True, kw_only=True)
class CashOrder:
    """A cash movement to register: ``cmd/cash`` in domain terms."""

    direction: CashDirection
    amount: Kopecks
    comment: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalRecord:
    """What the register answered for a finished row.

    For a receipt: the FN serial, FD number, FPD, shift, number in the shift, the register's
    time (aware, in the register's zone), the total, the change and the mark the document
    carries, and whether it is an ordinary or a correction receipt. A cash movement issues no
    FD: ``fd`` and ``fp`` are 0 and ``number`` is the register's document number.
    """

    fn: str
    fd: int
    fp: int
    shift: int
    number: int
    issued_at: datetime
    total: Kopecks
    change: Kopecks
    mark: str | None = None  # the request id the FN document carries (None: no mark found)
    type: Literal["receipt", "correction"] = "receipt"  # a correction receipt: FD type 31
    doc_id: str | None = None  # the register's own document id (SmartOne's fiscalID)
