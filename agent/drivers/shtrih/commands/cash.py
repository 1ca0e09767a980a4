"""Cash movements, pure: 0x50 cash in (внесение) and 0x51 cash out (выплата).

docs/shtrih-wire-notes.md §2.1. The drawer's 0x28 is in :mod:`.drawer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from agent.drivers.shtrih.commands._layout import MAX_MONEY, MONEY_BYTES
from agent.drivers.shtrih.wire import (
    Command,
    PasswordRequest,
    Reader,
    check_range,
    password_bytes,
    uint_bytes,
)

__all__ = [
    "CashInRequest",
    "CashInResponse",
    "CashOutRequest",
    "CashOutResponse",
    "cash_movement",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CashInRequest(PasswordRequest):
    """0x50 Внесение (§2.1).

    ::

        50 | password u32 | amount u40 (kopecks)
    """

    command: ClassVar[Command] = Command.CASH_IN
    amount: int

    def __post_init__(self) -> None:
        PasswordRequest.__post_init__(self)
        check_range(self.amount, 0, MAX_MONEY, "amount")

    def body(self) -> bytes:
        """The data after the command code."""
        return password_bytes(self.password) + uint_bytes(self.amount, MONEY_BYTES, "amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class CashOutRequest(CashInRequest):
    """0x51 Выплата (§2.1).

    ::

        51 | password u32 | amount u40 (kopecks)
    """

    command: ClassVar[Command] = Command.CASH_OUT


@dataclass(frozen=True, slots=True, kw_only=True)
class CashInResponse:
    """0x50 answer: ``err | operator | document number u16`` (§2.1)."""

    operator: int
    document_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CashOutResponse(CashInResponse):
    """0x51 answer: ``err | operator | document number u16`` (§2.1)."""


def cash_movement(cls: type[CashInResponse]) -> Callable[[Reader], CashInResponse]:
    """A decoder for an ``err | operator | document number u16`` answer (0x50, 0x51)."""

    def decode(r: Reader) -> CashInResponse:
        operator = r.uint(1, "operator")
        response = cls(operator=operator, document_number=r.uint(2, "document number"))
        r.done()
        return response

    return decode
